"""A local server of the range protocol (HIBP's /range/{prefix}), fed a known corpus.

`sspr demo` starts one so that a breached password is refused without internet access, and
the tests speak to it through the real HTTP adapter. It pads answers as HIBP does when the
request carries `Add-Padding: true`, and records the paths it was asked for.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PATH = re.compile(r"^/range/([0-9A-Fa-f]{5})$")
# HIBP pads each answer to between 800 and 1,000 lines.
PADDED_LINES = 800


class RangeServer:
    """Serve /range/{prefix} for a corpus of (password, count) pairs on 127.0.0.1."""

    def __init__(self, corpus: Iterable[tuple[str, int]], port: int = 0) -> None:
        self.ranges: dict[str, dict[str, int]] = defaultdict(dict)
        for password, count in corpus:
            digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
            self.ranges[digest[:5]][digest[5:]] = count
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.status = 200
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to configure as breach.url."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/range/"

    def start(self) -> RangeServer:
        """Serve in a background thread."""
        # A short poll: stop() returns at once, not after half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def body(self, prefix: str, padding: bool) -> str:
        """The answer for one prefix, padded with zero-count suffixes when asked."""
        known = dict(self.ranges.get(prefix.upper(), {}))
        while padding and len(known) < PADDED_LINES:
            known.setdefault(secrets.token_hex(18)[:35].upper(), 0)
        return "".join(f"{suffix}:{count}\r\n" for suffix, count in known.items())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as HIBP's CDN: the client's pooled connection is reused; without
            # Nagle, headers and body sent apart do not wait for a delayed ACK (40 ms).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                match = _PATH.match(self.path)
                if server.status != 200 or match is None:
                    self.send_error(server.status if match else 404)
                    return
                padding = self.headers.get("Add-Padding", "").lower() == "true"
                data = server.body(match.group(1), padding).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the demo and the tests print what matters themselves."""

        return Handler
