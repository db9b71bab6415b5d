"""What bench/http.py stands on: the servers it starts, a browser-like client, CPU readings."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TICKS = os.sysconf("SC_CLK_TCK")


class SmsSink:
    """A loopback HTTP endpoint where the bench server's Twilio transport drops each SMS."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with sink._lock:
                    sink.bodies.setdefault(message["to"], []).append(message["body"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def last(self, number: str) -> str | None:
        """The latest SMS sent to an E.164 number."""
        with self._lock:
            bodies = self.bodies.get(number)
            return bodies[-1] if bodies else None

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()


@contextmanager
def production_server(app: str, port: int, env: dict[str, str], workers: int) -> Iterator[int]:
    """Serve `app` as production does (`sspr serve`, sspr/serving.py); yield the master's pid."""
    command = [
        str(Path(sys.executable).with_name("sspr")), "serve", "--app", app,
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
    ]  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 - our own server, our own arguments
        command, cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_until_up(port, server)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode() if server.stderr else ""
            raise SystemExit(f"the server stopped:\n{error[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 404):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer")


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            queue.extend(int(child) for child in task.read_text().split())
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU the processes have used (threads included)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


@dataclass
class Browser:
    """One user's browser: a kept-alive connection, cookies, redirects followed."""

    port: int
    requests: int = 0
    cookies: dict[str, str] = field(default_factory=dict)
    connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Leave: the kept-alive connection closes."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def get(self, path: str) -> str:
        """GET a page, following redirects; return the final page's text."""
        return self._request("GET", path, None)

    def submit(self, path: str, data: dict[str, str], page: str | None = None) -> str:
        """POST a form with the CSRF token of `page` (fetched when not given)."""
        html = page if page is not None else self.get(path)
        match = CSRF.search(html)
        if match is None:
            raise RuntimeError(f"no form at {path}")
        return self._request("POST", path, {"csrf_token": match.group(1), **data})

    def _request(self, method: str, path: str, data: dict[str, str] | None) -> str:
        for _ in range(10):
            status, location, text = self._once(method, path, data)
            if status not in (301, 302, 303, 307, 308):
                if status >= 500:
                    raise RuntimeError(f"{method} {path}: {status}")
                return text
            method, path, data = "GET", urlsplit(location).path or "/", None
        raise RuntimeError("too many redirects")

    def _once(self, method: str, path: str, data: dict[str, str] | None) -> tuple[int, str, str]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.requests += 1
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or "expires=Thu, 01 Jan 1970" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, response.getheader("Location", ""), text
