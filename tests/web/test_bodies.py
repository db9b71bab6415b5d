"""Responses of a known, small size reach the WSGI server as one bytes; streams stay streams."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, Response
from werkzeug.test import EnvironBuilder

from sspr.web.bodies import OnePieceBodies

closed: list[str] = []


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/page")
    def page() -> Response:
        response = Response("<p>Bonjour</p>" * 10)
        response.call_on_close(lambda: closed.append("page"))
        return response

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            yield "un "
            yield "deux"

        return Response(chunks())

    return app


def _call(app: Any, path: str) -> tuple[Any, list[tuple[str, str]]]:
    started: list[tuple[str, str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.extend(headers)
        return lambda data: None

    return app(EnvironBuilder(path=path).get_environ(), start_response), started


def test_a_sized_page_goes_out_in_one_piece_and_is_closed() -> None:
    app = _app()
    closed.clear()
    body, headers = _call(OnePieceBodies(app.wsgi_app), "/page")
    assert body == [b"<p>Bonjour</p>" * 10]
    assert ("Content-Length", str(len(body[0]))) in headers
    assert closed == ["page"]  # the response's own end callbacks still run


def test_a_stream_or_a_large_body_keeps_its_chunks() -> None:
    app = _app()
    body, headers = _call(OnePieceBodies(app.wsgi_app), "/stream")
    assert not isinstance(body, list) and b"".join(body) == b"un deux"
    assert not any(name == "Content-Length" for name, _ in headers)
    closed.clear()
    body, _ = _call(OnePieceBodies(app.wsgi_app, max_joined=50), "/page")
    assert not isinstance(body, list)
    assert b"".join(body) == b"<p>Bonjour</p>" * 10
    body.close()
    assert closed == ["page"]


def test_sspr_s_pages_and_static_files_go_out_in_one_piece(app: Flask) -> None:
    for path in ("/", "/static/css/sspr.css", "/nowhere"):
        body, headers = _call(app.wsgi_app, path)
        assert isinstance(body, list) and len(body) == 1, path
        assert ("Content-Length", str(len(body[0]))) in headers
