"""Every journey over real HTTP, under the production server command, with server CPU per flow.

Run: .venv/bin/python -m bench.http [--flows 48] [--concurrency 1 4 16] [--workers 4] [--runs 3]
     .venv/bin/python -m bench.http --instances 2 --store redis   (bench/scale.py)

It starts a private slapd (ppolicy on), an SMTP catcher, an SMS sink, and sspr under
`sspr serve` (granian's workers, keep-alive, access log on). Each journey — the one-form
change, the /account/ change, the question, email-code and SMS-code resets — runs at each
concurrency with a distinct account per flow, each simulated user on its own kept-alive
connection, following redirects as a browser does; every new password is then checked with
a bind. Each journey (and the floor) first runs WARM_UP flows that are not counted. Server
CPU is the utime+stime of the server's processes and slapd's, from /proc. In the
same run: the raw ldap3 ceiling of the flow's own LDAP work (search + password modify on
persistent connections) and a bare Flask + ldap3 one-form change (bench/floor_app.py), the
floor of this stack. With --runs N everything runs N times in turn and each figure is the
median of the N (errors are added up). Results go to docs/performance.json and
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import queue
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from ldap3 import NONE, SUBTREE, Connection, Server

from bench.httpkit import ROOT, Browser, SmsSink, cpu_seconds, process_tree, production_server
from sspr.demo.data import PROFILE_UNITS, demo_ldif
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.run import demo_range_server
from sspr.demo.slapd import Slapd, free_port, ldif_attr, ssha
from sspr.domain.answers import AnswerHasher

OLD, NEW = "Initial-Passw0rd!", "Bench-Nouveau-2026!"
PROFILE_OF = {
    "change": "usager",
    "account": "usager",
    "question": "usager",
    "email": "elu",
    "sms": "agent-lycee",
    "floor": "usager",
    "ceiling": "usager",
}
CODE = re.compile(r"\b([A-Z0-9]{6})\b")
# Flows run first and not counted, so every worker has loaded its lists and opened its
# connections: the figures are a running service's, not a starting one's.
WARM_UP = 16
Step = tuple[str, float]


class Bench:
    """The servers of one run, and the accounts handed out to flows."""

    def __init__(self, workdir: Path) -> None:
        self.slapd = Slapd(workdir / "slapd")
        self.mails = Outbox()
        self.catcher = MailCatcher(self.mails)
        self.sms = SmsSink()
        # Five-digit account numbers: no part of a name ("Compte 2026") is in NEW, which the
        # policies' no_user_parts rule would rightly refuse.
        self._next = 10000
        # One hash at the default cost for every account: hashing thousands would take minutes.
        self._answer = AnswerHasher().store("birth_city", "Lyon").encode()
        self.slapd.start(demo_ldif(self.slapd.suffix, AnswerHasher()))
        self.catcher.start()
        # The élu's policy asks the range service (HIBP's protocol) as production would.
        self.ranges = demo_range_server().start()

    def accounts(self, journey: str, count: int) -> list[dict[str, str]]:
        """`count` fresh accounts in the journey's profile, added in one go."""
        unit, taken, entries = PROFILE_UNITS[PROFILE_OF[journey]], [], []
        for i in range(self._next, self._next + count):
            dn = f"uid=b{i},ou={unit},ou=people,{self.slapd.suffix}"
            mobile = f"+336{10000000 + i:08d}"
            entries.append(
                "\n".join(
                    [
                        f"dn: {dn}",
                        "objectClass: inetOrgPerson",
                        "objectClass: ssprAccount",
                        f"uid: b{i}",
                        f"cn: Compte {i}",
                        "sn: Testeur",
                        f"mail: b{i}@bench.sspr.test",
                        f"mobile: {mobile}",
                        f"userPassword: {ssha(OLD)}",
                        ldif_attr("ssprRecoveryAnswer", self._answer),
                    ]
                )
            )
            taken.append(
                {"login": f"b{i}", "dn": dn, "mail": f"b{i}@bench.sspr.test", "mobile": mobile}
            )
        self._next += count
        self.slapd.add("\n\n".join(entries) + "\n")
        return taken

    def config(self, workdir: Path, port: int) -> Path:
        """The demo configuration, pointed at these servers, with nothing that stops a load."""
        raw: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
        raw["public_url"] = f"http://127.0.0.1:{port}"
        raw["directory"].update(urls=[self.slapd.url], bind_dn=self.slapd.service_dn)
        raw["store"] = {"backend": "sqlite", "path": str(workdir / "store.sqlite3")}
        raw["mail"]["smtp"]["port"] = self.catcher.port
        raw["breach"]["url"] = self.ranges.url
        raw["audit"] = {"stdout": False, "file": str(workdir / "audit.jsonl")}
        raw["proof_attempts"] = {"max_failures": 1000, "window_seconds": 60, "lockout_seconds": 60}
        for profile in raw["profiles"]:
            profile["captcha"] = "off"
        raw["rate_limits"] = _unlimited(raw.get("rate_limits") or {})
        path = workdir / "sspr.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True))
        return path

    def stop(self) -> None:
        """Stop every server of the run."""
        self.catcher.stop()
        self.ranges.stop()
        self.sms.stop()
        self.slapd.stop()

    def server_env(self, workdir: Path, port: int) -> dict[str, str]:
        """What sspr's server needs in its environment to serve on `port`."""
        return {
            "SSPR_CONFIG": str(self.config(workdir, port)),
            "SSPR_SECRET_KEY": "k" * 64,
            "SSPR_LDAP_PASSWORD": self.slapd.service_password,
            "BENCH_SMS_SINK": self.sms.url,
        }

    def code(self, journey: str, account: dict[str, str]) -> str:
        """The code the account was just sent, read where it landed."""
        if journey == "sms":
            body = self.sms.last(account["mobile"]) or ""
            return re.findall(r"\d{6}", body)[0]
        mail = self.mails.mails_to(account["mail"])[0]
        return CODE.findall(mail.text.split("formulaire")[-1])[0]


def _unlimited(rate_limits: dict[str, Any]) -> dict[str, Any]:
    """Every per-source rate of the current configuration model, far above the load."""
    from sspr.config.security import RateLimits

    rates = [
        name for name, info in RateLimits.model_fields.items() if isinstance(info.default, str)
    ]
    return {**rate_limits, **dict.fromkeys(rates, "100000/minute")}


# -- the journeys: each returns its steps' durations -------------------------------------------


def _what_it_says(page: str) -> str:
    """A page's heading and alerts, enough to tell why a journey ended elsewhere."""
    found = re.findall(r"<h1[^>]*>(.*?)</h1>|role=\"alert\"[^>]*>(.*?)</", page, re.S)
    return " | ".join(" ".join(part.split()) for pair in found for part in pair if part)[:300]


def _timed(steps: list[Step], name: str, action: Callable[[], str]) -> str:
    started = time.perf_counter()
    page = action()
    steps.append((name, time.perf_counter() - started))
    return page


def journey_change(b: Browser, bench: Bench, account: dict[str, str]) -> list[Step]:
    steps: list[Step] = []
    page = _timed(steps, "form", lambda: b.get("/change/usager"))
    done = _timed(
        steps,
        "change",
        lambda: b.submit(
            "/change/usager",
            {
                "identifier": account["login"],
                "current": OLD,
                "password": NEW,
                "confirmation": NEW,
            },
            page,
        ),
    )
    assert "modifié" in done, "the change failed"
    return steps


def journey_account(b: Browser, bench: Bench, account: dict[str, str]) -> list[Step]:
    steps: list[Step] = []
    _timed(
        steps,
        "login",
        lambda: b.submit(
            "/account/login/usager", {"identifier": account["login"], "password": OLD}
        ),
    )
    _timed(
        steps,
        "change",
        lambda: b.submit(
            "/account/password", {"current": OLD, "password": NEW, "confirmation": NEW}
        ),
    )
    return steps


def _reset(b: Browser, bench: Bench, account: dict[str, str], journey: str) -> list[Step]:
    profile = PROFILE_OF[journey]
    steps: list[Step] = []
    page = _timed(
        steps, "identify", lambda: b.submit(f"/reset/{profile}", {"identifier": account["login"]})
    )
    if journey == "question":
        page = _timed(
            steps, "answer", lambda: b.submit("/reset/question", {"answer_0": "Lyon"}, page)
        )
    else:
        code = bench.code(journey, account)
        page = _timed(steps, "code", lambda: b.submit("/reset/code", {"code": code}, page))
    done = _timed(
        steps,
        "password",
        lambda: b.submit("/reset/password", {"password": NEW, "confirmation": NEW}, page),
    )
    assert "modifié" in done, f"the {journey} reset failed: {_what_it_says(done)}"
    return steps


def journey_floor(b: Browser, bench: Bench, account: dict[str, str]) -> list[Step]:
    steps: list[Step] = []
    _timed(steps, "form", lambda: b.get("/change"))
    _timed(
        steps,
        "change",
        lambda: b._request(
            "POST", "/change", {"identifier": account["login"], "current": OLD, "password": NEW}
        ),
    )
    return steps


JOURNEYS: dict[str, Callable[[Browser, Bench, dict[str, str]], list[Step]]] = {
    "change": journey_change,
    "account": journey_account,
    "question": lambda b, bench, a: _reset(b, bench, a, "question"),
    "email": lambda b, bench, a: _reset(b, bench, a, "email"),
    "sms": lambda b, bench, a: _reset(b, bench, a, "sms"),
}


# -- running and measuring ---------------------------------------------------------------------


def run(
    journey: str,
    step: Callable[[Browser, Bench, dict[str, str]], list[Step]],
    bench: Bench,
    port: int,
    pids: list[int],
    concurrency: int,
    flows: int,
    new_browser: Callable[[], Browser] | None = None,
) -> dict[str, Any]:
    """`flows` flows at `concurrency`, each user on its own connection; the figures."""
    accounts = bench.accounts(journey, flows)
    work: queue.Queue[dict[str, str]] = queue.Queue()
    for account in accounts:
        work.put(account)
    results: list[tuple[float, list[Step], int]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user() -> None:
        while True:
            try:
                account = work.get_nowait()
            except queue.Empty:
                return
            # A new visitor: a new connection, no cookies.
            browser = new_browser() if new_browser is not None else Browser(port)
            started = time.perf_counter()
            try:
                steps = step(browser, bench, account)
            except (AssertionError, RuntimeError, OSError, IndexError, StopIteration) as exc:
                with lock:
                    errors.append(f"{account['login']}: {exc!r}")
                continue
            finally:
                browser.close()
            with lock:
                results.append((time.perf_counter() - started, steps, browser.requests))

    cpu_before, started = cpu_seconds(pids), time.perf_counter()
    threads = [threading.Thread(target=user) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pids) - cpu_before
    unchanged = [a["login"] for a in accounts if not _binds(bench, a["dn"], NEW)]
    return _figures(results, errors, elapsed, cpu, unchanged)


def _binds(bench: Bench, dn: str, password: str) -> bool:
    conn = Connection(Server(bench.slapd.url, get_info=NONE), dn, password.encode())
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _figures(
    results: list[tuple[float, list[Step], int]],
    errors: list[str],
    elapsed: float,
    cpu: float,
    unchanged: list[str],
) -> dict[str, Any]:
    done = len(results)
    per_step: dict[str, list[float]] = {}
    for _, steps, _ in results:
        for name, seconds in steps:
            per_step.setdefault(name, []).append(seconds)
    return {
        "flows": done,
        "errors": errors[:5],
        "error_count": len(errors),
        "passwords_not_changed": len(unchanged) - len(errors),
        "flows_per_s": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_pct([r[0] for r in results], 0.5), 1),
        "p99_ms": round(_pct([r[0] for r in results], 0.99), 1),
        "requests_per_flow": round(statistics.mean(r[2] for r in results), 1) if done else 0,
        "server_cpu_ms_per_flow": round(cpu * 1000 / done, 1) if done else 0.0,
        "steps": {
            name: {"p50_ms": round(_pct(v, 0.5), 1), "p99_ms": round(_pct(v, 0.99), 1)}
            for name, v in per_step.items()
        },
    }


def ldap_ceiling(bench: Bench, concurrency: int, flows: int) -> dict[str, Any]:
    """Search + password modify on persistent service connections: the directory's own pace."""
    accounts = bench.accounts("ceiling", flows)
    work: queue.Queue[dict[str, str]] = queue.Queue()
    for account in accounts:
        work.put(account)
    server = Server(bench.slapd.url, get_info=NONE)
    base = f"ou=people,{bench.slapd.suffix}"

    def worker() -> None:
        conn = Connection(
            server, bench.slapd.service_dn, bench.slapd.service_password, auto_bind=True
        )
        while True:
            try:
                account = work.get_nowait()
            except queue.Empty:
                break
            conn.search(base, f"(uid={account['login']})", SUBTREE, attributes=["1.1"])
            conn.extend.standard.modify_password(account["dn"], None, NEW.encode())
        conn.unbind()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"flows_per_s": round(flows / (time.perf_counter() - started), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=48)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--journeys", nargs="+", default=list(JOURNEYS))
    parser.add_argument("--instances", type=int, default=1, help="sspr instances (bench.scale)")
    parser.add_argument("--store", choices=["sqlite", "redis"], default="sqlite")
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat everything; each figure is the median"
    )
    args = parser.parse_args()
    if args.instances > 1 and args.store != "redis":
        parser.error("several instances share their state through Redis: add --store redis")
    if args.store == "redis":
        from bench.scale import run_scale

        run_scale(args)
        return
    command = " ".join(["python -m bench.http", *sys.argv[1:]])
    report: dict[str, Any] = {
        "machine": _machine(),
        "command": command,
        "workers": args.workers,
        "runs": args.runs,
    }
    # Runs follow one another (sspr, floor, ceiling, then again) so that a disturbance of the
    # machine touches one run of each, and the median leaves it out.
    runs = [_one_run(args) for _ in range(args.runs)]
    report.update(median_of(runs))
    if args.runs > 1:
        report["each_run"] = runs
    _write(report)


def _one_run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sspr-bench-") as tmp:
        workdir = Path(tmp)
        bench = Bench(workdir)
        try:
            return {
                "journeys": _sspr(bench, workdir, args),
                "floor": _floor(bench, args),
                "ldap_ceiling": {
                    str(c): ldap_ceiling(bench, c, args.flows) for c in args.concurrency
                },
            }
        finally:
            bench.stop()


# Counts that no run may hide: every run's are added up.
SUMMED = frozenset({"error_count", "passwords_not_changed"})


def median_of(runs: list[Any]) -> Any:
    """The runs' figures, each the median of its values; errors are added up, not medians."""
    first = runs[0]
    if isinstance(first, dict):
        return {
            key: sum(run[key] for run in runs)
            if key in SUMMED
            else median_of([r[key] for r in runs])
            for key in first
        }
    if isinstance(first, list):  # error messages: every run's
        return [item for run in runs for item in run][:5]
    if isinstance(first, bool) or not isinstance(first, int | float):
        return first
    return round(statistics.median(runs), 1)


def _sspr(bench: Bench, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = bench.server_env(workdir, port)
    results: dict[str, Any] = {}
    with production_server("bench.http_app:app", port, env, args.workers) as master:
        pids = [*process_tree(master), bench.slapd.pid or 0]
        for name in args.journeys:
            run(name, JOURNEYS[name], bench, port, [], 8, WARM_UP)
            results[name] = {
                str(c): run(name, JOURNEYS[name], bench, port, pids, c, args.flows)
                for c in args.concurrency
            }
            print(
                name,
                json.dumps(
                    results[name]["4" if "4" in results[name] else str(args.concurrency[0])]
                ),
            )
    return results


def _floor(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {
        "FLOOR_LDAP_URL": bench.slapd.url,
        "FLOOR_BIND_DN": bench.slapd.service_dn,
        "FLOOR_BIND_PASSWORD": bench.slapd.service_password,
        "FLOOR_BASE": f"ou=people,{bench.slapd.suffix}",
    }
    with production_server("bench.floor_app:app", port, env, args.workers) as master:
        pids = [*process_tree(master), bench.slapd.pid or 0]
        run("floor", journey_floor, bench, port, [], 8, WARM_UP)
        return {
            str(c): run("floor", journey_floor, bench, port, pids, c, args.flows)
            for c in args.concurrency
        }


def _machine() -> dict[str, Any]:
    import os

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _write(report: dict[str, Any]) -> None:
    (ROOT / "docs" / "performance.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "| flow | c | flows/s | p50 ms | p99 ms | requests | server CPU ms/flow | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = {**report["journeys"], "floor (bare Flask + ldap3)": report["floor"]}
    for name, levels in rows.items():
        for c, r in levels.items():
            lines.append(
                f"| {name} | {c} | {r['flows_per_s']} | {r['p50_ms']} | {r['p99_ms']} | "
                f"{r['requests_per_flow']} | {r['server_cpu_ms_per_flow']} | "
                f"{r['error_count']} |"
            )
    for c, r in report["ldap_ceiling"].items():
        lines.append(f"| raw LDAP ceiling | {c} | {r['flows_per_s']} | | | | | |")
    table = "\n".join(lines) + "\n\n" + "\n".join(_ratios(report))
    print(table)
    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else "# Performance\n\n"
    marker = "<!-- bench/http.py results -->"
    head = text.split(marker)[0].rstrip() + "\n\n"
    m = report["machine"]
    machine = f"{m['cpus']} CPUs, Python {m['python']}, {m['system']}, {m['date']}"
    runs = f"; median of {report['runs']} runs" if report["runs"] > 1 else ""
    setup = f"Machine: {machine}; {report['workers']} workers{runs}."
    path.write_text(f"{head}{marker}\n\n{setup}\n\n{table}\n")


def _ratios(report: dict[str, Any]) -> list[str]:
    """The one-form change against the raw LDAP ceiling and against the bare stack's floor."""
    lines = []
    change, floor = report["journeys"].get("change", {}), report.get("floor", {})
    ceiling = report.get("ldap_ceiling", {})
    for c in change:
        if c in ceiling and ceiling[c]["flows_per_s"]:
            share = change[c]["flows_per_s"] / ceiling[c]["flows_per_s"]
            lines.append(f"- one-form change at c={c}: {share:.0%} of the raw LDAP ceiling")
        if c in floor and floor[c]["server_cpu_ms_per_flow"]:
            times = change[c]["server_cpu_ms_per_flow"] / floor[c]["server_cpu_ms_per_flow"]
            lines.append(f"- one-form change at c={c}: {times:.1f}× the floor's server CPU a flow")
    return lines


if __name__ == "__main__":
    main()
