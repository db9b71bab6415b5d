"""How long argon2id takes to verify an answer, at the default cost and others.

Run: .venv/bin/python -m bench.answers
"""

from __future__ import annotations

import statistics
import time

from sspr.domain.answers import AnswerHasher

COSTS = [
    ("OWASP minimum (sspr default)", {"time_cost": 2, "memory_kib": 19456, "parallelism": 1}),
    ("RFC 9106 second choice", {"time_cost": 3, "memory_kib": 65536, "parallelism": 4}),
    ("cheap (tests only)", {"time_cost": 1, "memory_kib": 8192, "parallelism": 1}),
]


def measure(costs: dict[str, int], rounds: int = 20) -> list[float]:
    """Milliseconds per verify of a correct answer."""
    hasher = AnswerHasher(**costs)
    stored = hasher.store("birth_city", "Saint-Étienne")
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        hasher.verify(stored, "saint-etienne")
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    """Print median and p95 per cost."""
    print(f"{'cost':<32} {'median ms':>10} {'p95 ms':>8}")
    for name, costs in COSTS:
        timings = sorted(measure(costs))
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{name:<32} {statistics.median(timings):>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
