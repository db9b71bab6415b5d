"""The whole security-question reset through the Flask test client, against a private slapd.

Run: .venv/bin/python -m bench.journey
Starts its own slapd and SMTP catcher (the "password changed" notice is really sent), seeds
N accounts whose answers are hashed at the default argon2id cost, runs N journeys (identify,
answer, new password; each step is the GET of its page and the POST of its form), and prints
per-step medians with the number of LDAP operations each step made, counted with the
directory's on_latency hook. Everything is stopped at the end.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.data import demo_ldif
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.run import demo_settings, demo_sms_sender
from sspr.demo.slapd import Slapd, ldif_attr, ssha
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import AnswerHasher
from sspr.web.app import create_app

N = 50
ANSWER = "Saint-Étienne"
STEPS = ("identify", "answer", "new password")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Per step: (milliseconds, LDAP operations made) of each journey.
Results = dict[str, list[tuple[float, Counter[str]]]]


class LdapOps:
    """The on_latency hook: counts the operations of the step being measured."""

    def __init__(self) -> None:
        self.current: Counter[str] = Counter()

    def __call__(self, operation: str, seconds: float) -> None:
        self.current[operation] += 1

    def take(self) -> Counter[str]:
        """The step's operations, starting a new count."""
        taken, self.current = self.current, Counter()
        return taken


def accounts_ldif(suffix: str, hasher: AnswerHasher) -> str:
    """N usager accounts with one registered answer each (the default argon2id cost)."""
    entries = []
    for i in range(N + 1):
        login = f"bench.{i:03d}"
        entries.append(
            "\n".join([
                f"dn: uid={login},ou=usagers,ou=people,{suffix}",
                "objectClass: inetOrgPerson", "objectClass: ssprAccount",
                f"uid: {login}", f"cn: Bench {i}", "givenName: Bench", f"sn: User{i}",
                f"mail: {login}@bench.sspr.test", f"userPassword: {ssha('Initial-Passw0rd!')}",
                ldif_attr("ssprRecoveryAnswer", hasher.store("birth_city", ANSWER).encode()),
            ])
        )  # fmt: skip
    return "\n\n".join(entries) + "\n"


def submit(client: FlaskClient, url: str, data: dict[str, str]) -> int:
    """GET a form, POST it with its CSRF token; return the POST's status."""
    page = client.get(url)
    match = CSRF.search(page.text)
    if match is None:
        raise SystemExit(f"no form at {url}: {page.status_code}")
    return client.post(url, data={"csrf_token": match.group(1), **data}).status_code


def journey(client: FlaskClient, login: str) -> list[Callable[[], int]]:
    """The three steps of one reset, to be run in order."""
    password = f"Bench-{login}-Passw0rd!"
    return [
        lambda: submit(client, "/reset/usager", {"identifier": login}),
        lambda: submit(client, "/reset/question", {"answer_0": ANSWER}),
        lambda: submit(client, "/reset/password", {"password": password, "confirmation": password}),
    ]  # fmt: skip


def run(settings: Settings, directory: LdapDirectory, ops: LdapOps) -> Results:
    """N journeys after one warm-up; per step, the milliseconds and the operations made."""
    sms_sender = demo_sms_sender(settings, Outbox())  # the journey asks a question, sends no SMS
    app = create_app(settings, directory=directory, sms_sender=sms_sender, audit_streams=[])
    results: Results = {step: [] for step in STEPS}
    for i in range(N + 1):
        client = app.test_client()
        client.environ_base.update(
            {"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/"}
        )
        for step, action in zip(STEPS, journey(client, f"bench.{i:03d}"), strict=True):
            ops.take()
            start = time.perf_counter()
            status = action()
            spent = (time.perf_counter() - start) * 1000
            if status != 302:  # a journey that went wrong measures nothing
                raise SystemExit(f"{step} answered {status}")
            if i:  # the first journey opens the connection: not counted
                results[step].append((spent, ops.take()))
    return results


def main() -> None:
    """Print one row per step."""
    hasher = AnswerHasher()
    with tempfile.TemporaryDirectory(prefix="sspr-bench-") as tmp:
        workdir = Path(tmp)
        slapd = Slapd(workdir / "slapd")
        catcher = MailCatcher(Outbox())
        catcher.start()
        try:
            slapd.start(
                demo_ldif(slapd.suffix, hasher) + "\n" + accounts_ldif(slapd.suffix, hasher)
            )
            settings = demo_settings(slapd, workdir, "https://motdepasse.example.org", catcher.port)
            # One client address runs every journey: lift the per-address limit for the bench.
            raw = settings.model_dump(mode="json")
            raw["rate_limits"] = {"reset": "10000/minute", "account": "10000/minute"}
            settings = Settings.model_validate(raw)
            ops = LdapOps()
            directory = LdapDirectory(settings.directory, slapd.service_password, on_latency=ops)
            results = run(settings, directory, ops)
            directory.close()
        finally:
            slapd.stop()
            catcher.stop()
    report(results)


def report(results: Results) -> None:
    """One row per step: its median and p95, and the LDAP operations per journey."""
    print(
        f"{N} question resets through the Flask test client; answers at the default argon2id cost"
    )
    print(f"{'step (GET + POST)':<20} {'median ms':>10} {'p95 ms':>8} {'LDAP ops':>9}  operations")
    for step in STEPS:
        spent = sorted(ms for ms, _ in results[step])
        counts = sum((made for _, made in results[step]), Counter())
        per_journey = {name: count / N for name, count in sorted(counts.items())}
        detail = ", ".join(f"{name} ×{count:g}" for name, count in per_journey.items())
        p95 = spent[max(0, int(len(spent) * 0.95) - 1)]
        total = sum(per_journey.values())
        print(f"{step:<20} {statistics.median(spent):>10.1f} {p95:>8.1f} {total:>9g}  {detail}")


if __name__ == "__main__":
    main()
