"""What each part a flow must do costs on its own: the budget behind issue 14's targets.

Run: .venv/bin/python -m bench.parts [--repeat 200]

It starts what bench/http.py starts (a private slapd with ppolicy, an SMTP catcher, a range
server), builds sspr's adapters and app in this process from the bench's configuration, and
times each part alone in this thread's CPU (`time.thread_time`), median of 3 rounds; for LDAP
operations it adds slapd's own CPU a call, from /proc. Nothing is asserted: it prints a table
to compare with a flow's server CPU in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.http import OLD, Bench
from bench.httpkit import TICKS
from sspr.config import load_settings
from sspr.data import french_guesser
from sspr.delivery.pwned import HttpPwnedRanges
from sspr.delivery.smtp import SmtpMailer
from sspr.directory.routing import open_directory
from sspr.domain.answers import AnswerHasher
from sspr.domain.ports import OutgoingMail

Part = Callable[[int], object]


def cpu_ms(part: Part, repeat: int, first: int = 0) -> float:
    """This thread's CPU for one call, median of 3 rounds of `repeat` calls (after a warm-up)."""
    for i in range(5):
        part(first + i)
    rounds = []
    for r in range(3):
        started = time.thread_time()
        for i in range(repeat):
            part(first + 5 + r * repeat + i)
        rounds.append((time.thread_time() - started) / repeat * 1000)
    return statistics.median(rounds)


def slapd_ms(bench: Bench) -> float:
    """slapd's CPU so far, in ms."""
    fields = Path(f"/proc/{bench.slapd.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    repeat = parser.parse_args().repeat
    rows: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="sspr-parts-") as tmp:
        bench = Bench(Path(tmp))
        try:
            rows += _ldap(bench, Path(tmp), repeat)
            rows += _the_rest(bench, repeat)
            rows += _pages(bench, Path(tmp), repeat)
        finally:
            bench.stop()
    print("| part | sspr CPU ms | slapd CPU ms |\n|---|---|---|")
    for name, ours, theirs in rows:
        print(f"| {name} | {ours:.2f} | {'' if theirs is None else f'{theirs:.2f}'} |")


def _ldap(bench: Bench, tmp: Path, repeat: int) -> list[tuple[str, float, float | None]]:
    settings = load_settings(str(bench.config(tmp, 1)))
    directory = open_directory(settings, {"default": bench.slapd.service_password})
    # Every call on a distinct account: 3 rounds and a warm-up for each of two writes.
    accounts = bench.accounts("email", 2 * (3 * repeat + 5))
    base = f"ou=people,{bench.slapd.suffix}"
    parts: dict[str, Part] = {
        "LDAP search (identification)": lambda i: directory.find_users(
            base, ["login", "email"], accounts[i]["login"], limit=2
        ),
        "LDAP entry read": lambda i: directory.read_user(accounts[i]["dn"]),
        "LDAP bind as the user": lambda i: directory.authenticate(accounts[i]["dn"], OLD),
        "LDAP reset (service account)": lambda i: directory.set_password(
            accounts[i]["dn"], f"Nouveau-Mot-{i:05d}-x!"
        ),
        "LDAP bind + own change": lambda i: directory.change_own_password(
            accounts[i]["dn"], OLD, f"Autre-Mot-{i:05d}-y!"
        ),
    }
    rows: list[tuple[str, float, float | None]] = []
    for name, part in parts.items():
        first = 3 * repeat + 5 if name == "LDAP bind + own change" else 0
        before = slapd_ms(bench)
        ours = cpu_ms(part, repeat, first)
        rows.append((name, ours, (slapd_ms(bench) - before) / (3 * repeat + 5)))
    return rows


def _the_rest(bench: Bench, repeat: int) -> list[tuple[str, float, float | None]]:
    mailer = SmtpMailer(
        "127.0.0.1", bench.catcher.port, security="none", username=None, password=None,
        timeout=5, sender="sspr@example.org",
    )  # fmt: skip
    notice = OutgoingMail(
        to="a@example.org", subject="Votre mot de passe a été modifié",
        text="Bonjour,\n\n" + "texte " * 60, html="<p>" + "texte " * 80 + "</p>",
    )  # fmt: skip
    ranges = HttpPwnedRanges(bench.ranges.url, timeout=5)
    guesser = french_guesser()
    hasher = AnswerHasher()
    stored = hasher.store("birth_city", "Lyon")
    parts: dict[str, tuple[Part, int]] = {
        "mail: build and send on a kept SMTP session": (lambda i: mailer.send(notice), repeat),
        "range service: one lookup": (lambda i: ranges.suffixes("ABCDE").get("0" * 35), repeat),
        "zxcvbn: one score": (lambda i: guesser.estimate("Nouveau-Mot-2026!x", ["b10001"]), repeat),
        "argon2id: one answer checked (default cost)": (lambda i: hasher.verify(stored, "x"), 10),
    }
    return [(name, cpu_ms(part, times), None) for name, (part, times) in parts.items()]


def _pages(bench: Bench, tmp: Path, repeat: int) -> list[tuple[str, float, float | None]]:
    os.environ.update(bench.server_env(tmp, 5000))
    os.environ.setdefault("BENCH_SMS_SINK", bench.sms.url)
    from bench.http_app import app  # built from the environment just set

    client = app.test_client()
    pages = ["/healthz", "/change/usager", "/reset/elu", "/account/login/usager"]
    return [(f"GET {page} (test client)", cpu_ms(lambda i, p=page: client.get(p), repeat), None)
            for page in pages]  # fmt: skip


if __name__ == "__main__":
    main()
