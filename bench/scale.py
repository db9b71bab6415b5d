"""Several sspr instances on one Redis: flows cross instances, limits are shared, flows/s.

Run: .venv/bin/python -m bench.http --instances 2 --store redis [--workers 4] [--flows 48]
     [--concurrency 4 16] [--journeys change question email]

It starts what bench/http.py starts, plus a private redis-server on a loopback port (no
persistence, 256 MB at most, stopped at the end). sspr then runs under the production server
command twice with the same total of workers: one instance with `--workers`, then
`--instances` instances with an equal share each, every one on that Redis with the same secret
key (one instance on Redis is the baseline, so the comparison is of instances, not of stores).
Each simulated browser sends every request to the next instance, as behind a reverse proxy
without stickiness, keeping its cookies: every flow crosses instances, and a flow that did
not carry over would fail its bind check. Before the load, one account fails its security
question on the first instance, then once more on the second, which must block it.
Results: docs/performance-scale.json and the two-instance section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import redis
import yaml

from bench.http import JOURNEYS, WARM_UP, Bench, _machine, run
from bench.httpkit import ROOT, TICKS, Browser, cpu_seconds, process_tree, production_server
from sspr.demo.slapd import free_port

REDIS_SERVER = "/usr/bin/redis-server"
# The demo's failed-proof limit; the journeys never fail a proof, so it never blocks them.
MAX_FAILURES = 5
BEGIN, END = "<!-- bench/scale.py results -->", "<!-- end of bench/scale.py results -->"


@contextmanager
def redis_server(workdir: Path) -> Iterator[tuple[str, int]]:
    """A throw-away redis-server on a loopback port; its URL and pid, stopped at the end."""
    port = free_port()
    command = [
        REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--maxmemory", "256mb", "--dir", str(workdir),
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - the system's redis-server, our arguments
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_redis(url: str, process: subprocess.Popen[bytes]) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            client.ping()
            client.close()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


@dataclass
class SpreadBrowser(Browser):
    """A browser behind a proxy without stickiness: each request goes to the next instance."""

    ports: tuple[int, ...] = ()
    served: Counter[int] = field(default_factory=Counter)
    _open: dict[int, http.client.HTTPConnection] = field(default_factory=dict)

    def _once(self, method: str, path: str, data: dict[str, str] | None) -> tuple[int, str, str]:
        self.port = self.ports[self.requests % len(self.ports)]
        self.connection = self._open.pop(self.port, None)
        try:
            return super()._once(method, path, data)
        finally:
            self.served[self.port] += 1
            if self.connection is not None:
                self._open[self.port] = self.connection

    def close(self) -> None:
        """Leave: every kept-alive connection closes."""
        for connection in self._open.values():
            connection.close()
        self._open.clear()
        self.connection = None


@contextmanager
def instances(
    bench: Bench, workdir: Path, count: int, workers: int, redis_url: str
) -> Iterator[tuple[list[int], list[int]]]:
    """`count` sspr instances of `workers` workers on one Redis: their ports and masters."""
    with ExitStack() as stack:
        ports, masters = [], []
        for number in range(count):
            home = workdir / f"{count}x{workers}-{number}"
            home.mkdir()
            port = free_port()
            env = bench.server_env(home, port) | {"SSPR_REDIS_URL": redis_url}
            _on_redis(Path(env["SSPR_CONFIG"]))
            served = production_server("bench.http_app:app", port, env, workers)
            master = stack.enter_context(served)
            ports.append(port)
            masters.append(master)
        yield ports, masters


def _on_redis(config: Path) -> None:
    """The bench's configuration with the Redis store and the demo's failed-proof limit."""
    raw = yaml.safe_load(config.read_text())
    raw["store"] = {"backend": "redis"}
    raw["proof_attempts"] = {
        "max_failures": MAX_FAILURES, "window_seconds": 900, "lockout_seconds": 900,
    }  # fmt: skip
    config.write_text(yaml.safe_dump(raw, allow_unicode=True))


def shared_limits(bench: Bench, ports: list[int]) -> dict[str, Any]:
    """Failed answers on the first instance, then on the second: is the account blocked?"""
    [account] = bench.accounts("question", 1)
    identify = ("/reset/usager", {"identifier": account["login"]})
    first = Browser(ports[0])
    first.submit(*identify)
    for _ in range(MAX_FAILURES - 1):
        assert "Il vous reste" in first.submit("/reset/question", {"answer_0": "Paris"})
    second = Browser(ports[1])
    second.submit(*identify)
    page = second.submit("/reset/question", {"answer_0": "Paris"})
    third = Browser(ports[0])
    again = third.submit(*identify)
    for browser in (first, second, third):
        browser.close()
    blocked = "Accès temporairement bloqué"
    return {
        "failures_on_first_instance": MAX_FAILURES - 1,
        "next_failure_on_second_instance_blocks": blocked in page,
        "new_flow_on_first_instance_blocked": blocked in again,
    }


def measure(
    bench: Bench, workdir: Path, args: argparse.Namespace, count: int, redis: tuple[str, int]
) -> dict[str, Any]:
    """Every journey on `count` instances sharing args.workers workers."""
    workers = max(1, args.workers // count)
    results: dict[str, Any] = {"instances": count, "workers_each": workers, "journeys": {}}
    with instances(bench, workdir, count, workers, redis[0]) as (ports, masters):
        if count > 1:
            results["shared_limits"] = shared_limits(bench, ports)
        made: list[SpreadBrowser] = []

        def browser() -> SpreadBrowser:
            made.append(SpreadBrowser(ports[0], ports=tuple(ports)))
            return made[-1]

        for name in args.journeys:
            # Warm-up, not counted: every worker loads its templates and opens its connections.
            run(name, JOURNEYS[name], bench, ports[0], [], 4, WARM_UP, browser)
            # Read after the warm-up, when every worker has been forked.
            parts = {
                "sspr": [p for m in masters for p in process_tree(m)],
                "slapd": [bench.slapd.pid or 0],
                "redis": [redis[1]],
            }
            pids = [pid for group in parts.values() for pid in group]
            levels = results["journeys"][name] = {}
            for c in args.concurrency:
                client, machine = time.process_time(), _machine_busy()
                wall, spent = time.perf_counter(), {k: cpu_seconds(v) for k, v in parts.items()}
                figures = run(name, JOURNEYS[name], bench, ports[0], pids, c, args.flows, browser)
                wall = time.perf_counter() - wall  # the bind checks included, on both sides
                client, machine = time.process_time() - client, _machine_busy() - machine
                flows = max(1, figures["flows"])
                figures["cpu_ms_per_flow"] = {
                    k: round((cpu_seconds(v) - spent[k]) * 1000 / flows, 2)
                    for k, v in parts.items()
                }
                levels[str(c)] = _with_cores(figures, client, machine / wall)
            print(count, "instance(s)", name, json.dumps(levels))
        served = sum((b.served for b in made), Counter[int]())
        results["requests_per_instance"] = [served[port] for port in ports]
    return results


def _machine_busy() -> float:
    """CPU seconds every process of the machine has used (other sessions' included)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / TICKS


def _with_cores(figures: dict[str, Any], client_cpu: float, machine: float) -> dict[str, Any]:
    """Add the cores sspr's side and the bench kept busy, and the whole machine's."""
    flows, rate = figures["flows"], figures["flows_per_s"]
    server_cores = rate * figures["server_cpu_ms_per_flow"] / 1000
    client_ms = client_cpu * 1000 / flows if flows else 0.0
    return figures | {
        "server_cores": round(server_cores, 2),
        "client_cpu_ms_per_flow": round(client_ms, 1),
        "bench_cores": round(server_cores + rate * client_ms / 1000, 2),
        "machine_cores": round(machine, 2),
    }


def run_scale(args: argparse.Namespace) -> None:
    """One instance, then args.instances, with the same total workers, on one Redis."""
    report: dict[str, Any] = {
        "machine": _machine(),
        "command": f"python -m bench.http --instances {args.instances} --store redis",
        "workers_total": args.workers,
        "flows": args.flows,
    }
    with TemporaryDirectory(prefix="sspr-scale-") as tmp:
        workdir = Path(tmp)
        bench = Bench(workdir)
        try:
            with redis_server(workdir) as server:
                counts = sorted({1, args.instances})
                report["runs"] = [measure(bench, workdir, args, n, server) for n in counts]
        finally:
            bench.stop()
    write(report)


def write(report: dict[str, Any]) -> None:
    """The JSON, and the table between the markers of docs/performance.md."""
    (ROOT / "docs" / "performance-scale.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "| instances × workers | flow | c | flows/s | p50 ms | p99 ms | CPU ms/flow: sspr "
        "| slapd | redis | client | cores busy: these | whole machine | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in report["runs"]:
        shape = f"{result['instances']} × {result['workers_each']}"
        for name, levels in result["journeys"].items():
            for c, r in levels.items():
                cpu = r["cpu_ms_per_flow"]
                lines.append(
                    f"| {shape} | {name} | {c} | {r['flows_per_s']} | {r['p50_ms']} | "
                    f"{r['p99_ms']} | {cpu['sspr']} | {cpu['slapd']} | {cpu['redis']} | "
                    f"{r['client_cpu_ms_per_flow']} | {r['bench_cores']} | {r['machine_cores']} | "
                    f"{r['error_count'] + r['passwords_not_changed']} |"
                )
    m = report["machine"]
    facts = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['date']}; "
        f"`{report['command']}`, {report['flows']} flows per row.",
        "",
        *lines,
        "",
    ]
    for result in report["runs"]:
        if "shared_limits" in result:
            facts.append(f"- shared limits: {json.dumps(result['shared_limits'])}")
        facts.append(
            f"- {result['instances']} instance(s): requests served by each: "
            f"{result['requests_per_instance']}"
        )
    table = "\n".join(facts)
    print(table)
    path = ROOT / "docs" / "performance.md"
    text = path.read_text()
    if BEGIN in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
    else:  # first run: just before bench/http.py's own results, which it rewrites
        before, after = text.split("<!-- bench/http.py results -->", 1)
        after = "\n\n<!-- bench/http.py results -->" + after
        before = before.rstrip() + "\n\n"
    path.write_text(f"{before}{BEGIN}\n\n{table}\n\n{END}{after}")
