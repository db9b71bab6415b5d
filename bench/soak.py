"""A mix of every journey at c=16 for minutes: nothing may leak or grow without bound.

Run: .venv/bin/python -m bench.soak [--minutes 10] [--concurrency 16] [--workers 4]

Same servers as bench/http.py. Every 30 s (SOAK_SAMPLE_SECONDS) it samples each server
worker's resident memory, open file descriptors and LDAP connections (sockets to slapd's
port), and the SQLite store: its size with the write-ahead log, and its rows by how long they
live. Rows of flows, codes and sessions live minutes, hourly limits an hour, and quota
counters per destination a day: with a distinct account per flow, live rows grow with the
flows until the longest of those times has passed, by design. What must not grow is the
number of live rows per flow, and the expired rows (the store purges them every minute).
At the end it prints the samples, the errors (0 expected), and whether memory grew under
10 %, descriptors and connections stayed flat, and the store stayed bounded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.http import JOURNEYS, Bench
from bench.httpkit import Browser, process_tree, production_server
from sspr.demo.slapd import free_port

SAMPLE_EVERY = float(os.environ.get("SOAK_SAMPLE_SECONDS", "30"))
BATCH = 64  # accounts made at a time for each journey


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _sockets_to(pid: int, port: int) -> int:
    """How many of the process's TCP sockets are connected to `port` on loopback."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:  # closed between the listing and the read
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    wanted = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(wanted) and fields[9] in inodes:
                count += 1
    return count


# A row living longer than this is a day-long quota counter, not a flow's state.
SHORT_LIVED = 3600.0


def store_rows(store: Path) -> dict[str, int]:
    """The store's rows: live and short-lived, live and day-long, expired but not purged."""
    now = time.time()
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as conn:
        expired, short, long = conn.execute(
            "SELECT SUM(expires_at <= ?1), SUM(expires_at > ?1 AND expires_at <= ?1 + ?2),"
            " SUM(expires_at > ?1 + ?2) FROM entries",
            (now, SHORT_LIVED),
        ).fetchone()
    return {"expired": expired or 0, "short_lived": short or 0, "day_long": long or 0}


def sample(master: int, slapd_port: int, store: Path, flows: int) -> dict[str, Any]:
    """One reading of every worker and of the store."""
    workers = [pid for pid in process_tree(master) if pid != master]
    size = sum(p.stat().st_size for p in store.parent.glob(store.name + "*") if p.exists())
    return {
        "flows": flows,
        "store_rows": store_rows(store) if store.exists() else {},
        "t": round(time.monotonic()),
        "rss_kib": {pid: _rss_kib(pid) for pid in workers},
        "fds": {pid: len(list(Path(f"/proc/{pid}/fd").iterdir())) for pid in workers},
        "ldap_connections": {pid: _sockets_to(pid, slapd_port) for pid in workers},
        "store_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sspr-soak-") as tmp:
        workdir = Path(tmp)
        bench = Bench(workdir)
        try:
            report = _soak(bench, workdir, args)
        finally:
            bench.stop()
    print(json.dumps(report, indent=2))


def _soak(bench: Bench, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = bench.server_env(workdir, port)
    slapd_port = int(bench.slapd.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + args.minutes * 60
    flows, errors = [0], []
    lock = threading.Lock()
    accounts: dict[str, list[dict[str, str]]] = {name: [] for name in JOURNEYS}

    def take(name: str) -> dict[str, str]:
        with lock:
            if not accounts[name]:
                accounts[name] = bench.accounts(name, BATCH)
            return accounts[name].pop()

    def user(index: int) -> None:
        names = list(JOURNEYS)
        for turn in itertools.count(index):
            if time.monotonic() >= deadline:
                return
            name = names[turn % len(names)]
            browser = Browser(port)
            try:
                JOURNEYS[name](browser, bench, take(name))
                with lock:
                    flows[0] += 1
            except (AssertionError, RuntimeError, OSError, IndexError, StopIteration) as exc:
                with lock:
                    errors.append(f"{name}: {exc!r}")
            finally:
                browser.close()

    with production_server("bench.http_app:app", port, env, args.workers) as master:
        store = workdir / "store.sqlite3"
        samples = [sample(master, slapd_port, store, flows[0])]
        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.concurrency)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            time.sleep(min(SAMPLE_EVERY, max(0.0, deadline - time.monotonic()) + 1))
            samples.append(sample(master, slapd_port, store, flows[0]))
    verdict = _verdict(samples, flows[0], errors)
    audit = workdir / "audit.jsonl"
    done = verdict["flows"] or 1
    verdict["audit_bytes_per_flow"] = round(audit.stat().st_size / done) if audit.exists() else 0
    return verdict


def _verdict(samples: list[dict[str, Any]], flows: int, errors: list[str]) -> dict[str, Any]:
    first, last = samples[1] if len(samples) > 2 else samples[0], samples[-1]
    growth = {
        pid: round(100 * (last["rss_kib"].get(pid, 0) / rss - 1), 1)
        for pid, rss in first["rss_kib"].items()
        if rss
    }
    stores = [s["store_bytes"] for s in samples]
    rows = [s["store_rows"] for s in samples if s["store_rows"] and s["flows"]]
    per_flow = [
        round((s["store_rows"]["short_lived"] + s["store_rows"]["day_long"]) / s["flows"], 2)
        for s in samples
        if s["store_rows"] and s["flows"]
    ]
    return {
        "flows": flows,
        "errors": len(errors),
        "first_errors": errors[:5],
        "rss_growth_percent": growth,
        "rss_ok": all(value < 10 for value in growth.values()),
        "fds": [first["fds"], last["fds"]],
        "ldap_connections": [first["ldap_connections"], last["ldap_connections"]],
        "store_bytes": stores,
        "store_rows": rows,
        "live_rows_per_flow": per_flow,
        "rows_per_flow_levelled": _levelled(per_flow),
        # Rows expire all the time; the purge (every PURGE_INTERVAL s) keeps their count flat.
        "expired_purged": _levelled([r["expired"] for r in rows]),
        "samples": len(samples),
    }


def _levelled(values: list[int] | list[float]) -> bool:
    """Whether the second half's peak stays within 20 % of the first half's."""
    half = len(values) // 2
    return max(values[half:], default=0) <= 1.2 * max(values[:half], default=0)


if __name__ == "__main__":
    main()
