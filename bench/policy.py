"""What the password-quality checks cost: CNIL rules, common words, zxcvbn, the range call.

The whole password step (every rule of the CNIL policy with zxcvbn, then the breach check
over HTTP against a local range server) must stay under 30 ms at the median, the
directory's compare and write excepted (bench/directory.py measures those).

Run: .venv/bin/python -m bench.policy [rounds]
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable

from sspr import data
from sspr.config import PolicyConfig
from sspr.delivery.pwned import HttpPwnedRanges
from sspr.demo.range_server import RangeServer
from sspr.domain.audit import AuditLog
from sspr.domain.breach import BreachCheck
from sspr.domain.common_words import contains_forbidden, is_common, normalise_list
from sspr.domain.policy import UserContext

SAMPLES = {
    "weak (M4rseille2024!)": "M4rseille2024!",
    "strong (18 chars)": "Girafe!Trompette42",
    "passphrase (7 words)": "cheval orange velo lune table porte arbre",
    "long (72 chars)": "Un poulpe reveur mange des crepes au beurre sale pres du phare, 2024 !!!",
}
USER = UserContext("claire.petit", ("Claire", "Petit"), ("claire.petit@example.org",))


def timed(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median and p95 in milliseconds, after a few warm-up calls."""
    for _ in range(5):
        action()
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main(rounds: int = 200) -> None:
    """Print median and p95 per check and sample, then the whole step."""
    started = time.perf_counter()
    policy = PolicyConfig(preset="cnil-2022-restricted", min_guess_score=3).build(
        context_words=("Région Occitanie",)
    )
    print(f"loading the lists and zxcvbn dictionaries (once per process): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")  # fmt: skip
    rules_only = policy.with_changes(min_guess_score=0, refuse_common=False)
    common = data.common_passwords()
    forbidden = normalise_list(["occitanie", "region"])
    guesser = data.french_guesser()
    server = RangeServer([(password, 1) for password in data.read_list(data.COMMON_PASSWORDS)])
    server.start()
    ranges = HttpPwnedRanges(server.url, timeout=2)
    breach = BreachCheck(ranges, AuditLog([io.StringIO()]))
    checks: dict[str, Callable[[str], object]] = {
        "CNIL entropy + counted rules": lambda pw: rules_only.check(pw, USER),
        "common passwords (20,000)": lambda pw: is_common(pw, common),
        "forbidden words (contained)": lambda pw: contains_forbidden(pw, forbidden),
        "zxcvbn (French lists + user)": lambda pw: guesser.estimate(pw, ("claire", "petit")),
        "range call (local HTTP, padded)": lambda pw: breach.verdict(
            pw, user_dn=None, profile=None
        ),
        "WHOLE STEP (assess + range call)": lambda pw: (
            policy.assess(pw, USER),
            breach.verdict(pw, user_dn=None, profile=None),
        ),
    }
    try:
        print(f"\n{'check':<34} {'sample':<24} {'median ms':>10} {'p95 ms':>8}")
        for name, check in checks.items():
            for label, password in SAMPLES.items():
                median, p95 = timed(lambda c=check, p=password: c(p), rounds)  # type: ignore[misc]
                print(f"{name:<34} {label:<24} {median:>10.2f} {p95:>8.2f}")
    finally:
        ranges.close()
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
