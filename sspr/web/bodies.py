"""Responses of a known, small size go to the WSGI server in one piece.

A Flask response is an iterator over its body. granian walks an iterator chunk by chunk from
Rust while holding the GIL, but sends a list of bytes in one call: 6.5% of a worker's GIL
time was that walk. sspr's responses are pages, redirects and static files of a few KB, so
joining them costs less than the walk. A body without a Content-Length (a stream) or larger
than MAX_JOINED is passed on untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# Joined in memory up to this size; a larger file keeps its chunks.
MAX_JOINED = 1 << 20

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OnePieceBodies:
    """WSGI middleware: a body with a Content-Length up to MAX_JOINED becomes one bytes."""

    def __init__(self, app: WsgiApp, max_joined: int = MAX_JOINED) -> None:
        self._app = app
        self._max_joined = max_joined

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Call the app; join its body when its declared length allows."""
        sizes: list[int] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sizes.extend(
                _length(value) for name, value in headers if name.lower() == "content-length"
            )
            return start_response(status, headers, exc_info)

        body = self._app(environ, start)
        if isinstance(body, list) or not sizes or not 0 <= sizes[-1] <= self._max_joined:
            return body
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()  # the app's own end-of-response callbacks, as the server would call


def _length(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return -1
