"""The HIBP range adapter against a real local HTTP server speaking the range protocol."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sspr.delivery.pwned import HttpPwnedRanges, parse_range
from sspr.demo.range_server import PADDED_LINES, RangeServer
from sspr.domain.audit import AuditLog
from sspr.domain.breach import BreachCheck, BreachVerdict
from sspr.domain.errors import RangeUnavailable
from sspr.metrics import Metrics


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


def checker(url: str, lines: io.StringIO, on_unavailable: str = "allow", timeout: float = 2):  # type: ignore[no-untyped-def]
    metrics = Metrics()
    audit = AuditLog([lines], observers=[metrics.observe_event])
    check = BreachCheck(HttpPwnedRanges(url, timeout=timeout), audit, on_unavailable)  # type: ignore[arg-type]
    return check, metrics


def events(lines: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines.getvalue().splitlines()]


def counted(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value("sspr_breach_checks_total", {"outcome": outcome})
    return value or 0.0


def test_only_five_hex_digits_leave_the_host_with_padding_asked(range_server: RangeServer) -> None:
    ranges = HttpPwnedRanges(range_server.url, timeout=2)
    known = ranges.suffixes(sha1("P@ssw0rd")[:5])
    assert known[sha1("P@ssw0rd")[5:]] == 9_545_824
    path, headers = range_server.requests[-1]
    assert path == "/range/" + sha1("P@ssw0rd")[:5]
    assert headers["Add-Padding"] == "true" and headers["User-Agent"]
    # Padded as HIBP pads: the answer's size says nothing of the prefix's real population.
    assert len(known) >= PADDED_LINES
    with pytest.raises(ValueError, match="5 upper-case"):
        ranges.suffixes(sha1("P@ssw0rd")[:6])


def test_breached_clean_and_padding_verdicts_are_audited_and_counted(
    range_server: RangeServer,
) -> None:
    lines = io.StringIO()
    check, metrics = checker(range_server.url, lines)
    assert check.verdict("Vacances-Bretagne-2016", user_dn="uid=a", profile="elu") is (
        BreachVerdict.BREACHED
    )
    assert check.verdict("Girafe!Trompette42", user_dn="uid=a", profile="elu") is (
        BreachVerdict.CLEAN
    )
    logged = events(lines)
    assert [(e["event"], e["outcome"]) for e in logged] == [
        ("password.breach_checked", "breached"),
        ("password.breach_checked", "clean"),
    ]
    assert all("Vacances" not in json.dumps(e) and "Girafe" not in json.dumps(e) for e in logged)
    assert counted(metrics, "breached") == 1 and counted(metrics, "clean") == 1
    # Nothing but 5-hex prefixes ever reached the server.
    assert all(len(path.rsplit("/", 1)[1]) == 5 for path, _ in range_server.requests)


def test_a_zero_count_padding_entry_is_not_a_breach(range_server: RangeServer) -> None:
    digest = sha1("Girafe!Trompette42")
    range_server.ranges[digest[:5]][digest[5:]] = 0
    check, _ = checker(range_server.url, io.StringIO())
    assert check.verdict("Girafe!Trompette42", user_dn=None, profile=None) is BreachVerdict.CLEAN


@pytest.mark.parametrize(("setting", "verdict"), [
    ("allow", BreachVerdict.UNAVAILABLE_ALLOWED), ("block", BreachVerdict.UNAVAILABLE_BLOCKED),
])  # fmt: skip
def test_an_unreachable_service_allows_or_blocks_as_configured(
    setting: str, verdict: BreachVerdict
) -> None:
    server = RangeServer([]).start()
    url = server.url
    server.stop()  # nothing listens there any more: connection refused
    lines = io.StringIO()
    check, metrics = checker(url, lines, setting)
    assert check.verdict("Girafe!Trompette42", user_dn="uid=a", profile="elu") is verdict
    assert verdict.refuses is (setting == "block")
    assert events(lines)[0]["outcome"] == verdict.value
    assert events(lines)[0]["cause"] == "ConnectionError"
    assert counted(metrics, verdict.value) == 1


def test_an_error_status_is_unavailable(range_server: RangeServer) -> None:
    range_server.status = 503
    with pytest.raises(RangeUnavailable, match="HTTP 503"):
        HttpPwnedRanges(range_server.url, timeout=2).suffixes("ABCDE")


def test_a_silent_service_times_out() -> None:
    # A socket that accepts connections (the kernel's backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/range/"
        started = time.monotonic()
        with pytest.raises(RangeUnavailable, match="Timeout"):
            HttpPwnedRanges(url, timeout=0.3).suffixes("ABCDE")
        assert time.monotonic() - started < 5


def test_a_malformed_body_is_unavailable() -> None:
    assert parse_range("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n\r\n") == {
        "0018A45C4D1DEF81644B54AB7F969B88D65": 1
    }
    with pytest.raises(RangeUnavailable, match="malformed"):
        parse_range("<html>captive portal</html>")


def test_check_config_asks_the_range_service(range_server: RangeServer, settings: Any) -> None:
    from sspr.checks import breach_check

    raw = settings.model_dump(mode="json")
    raw["breach"]["url"] = range_server.url
    row = breach_check(type(settings).model_validate(raw))
    assert row.ok and "suffixes for one prefix" in row.detail
    assert range_server.requests[-1][0] == "/range/00000"
    range_server.status = 503
    row = breach_check(type(settings).model_validate(raw))
    assert not row.ok and "HTTP 503" in row.detail and "let through" in row.detail


def test_a_range_is_read_as_the_service_wrote_it() -> None:
    body = (
        "0018A45C4D1DEF81644B54AB7F969B88D65:10\r\n"
        "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n"
        "011053fd0102e94d6ae2f8b83d76faf94f6:3\n"  # LF and lower case, as a mirror may serve
        "\r\n"
    )
    answer = parse_range(body)
    assert answer["0018A45C4D1DEF81644B54AB7F969B88D65"] == 10
    assert answer.get("00D4F6E8FA6EECAD2A3AA415EEC418D38EC") == 0
    assert answer.get("011053FD0102E94D6AE2F8B83D76FAF94F6") == 3
    assert answer.get("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 0) == 0
    assert answer.get("0018A45C4D1DEF81644B54AB7F969B88D6", 0) == 0  # a prefix of a suffix
    assert len(answer) == 3 and set(answer) == {
        "0018A45C4D1DEF81644B54AB7F969B88D65",
        "00D4F6E8FA6EECAD2A3AA415EEC418D38EC",
        "011053FD0102E94D6AE2F8B83D76FAF94F6",
    }


@pytest.mark.parametrize("body", [
    "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n<html>",
    "0018A45C4D1DEF81644B54AB7F969B88D65\r\n",
    "0018A45C4D1DEF81644B54AB7F969B88D65:1 0018A45C4D1DEF81644B54AB7F969B88D66:2\r\n",
    "18A45C4D1DEF81644B54AB7F969B88D65:1\r\n",
])  # fmt: skip
def test_any_line_out_of_the_protocol_makes_the_body_unusable(body: str) -> None:
    with pytest.raises(RangeUnavailable, match="malformed"):
        parse_range(body)


def test_the_proxy_of_the_environment_is_used(
    range_server: RangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An HTTP proxy is asked for the absolute URL: the range server stands in for the proxy,
    # not at the closed loopback port the range URL names.
    asked: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b"0018A45C4D1DEF81644B54AB7F969B88D65:7\r\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    with ThreadingHTTPServer(("127.0.0.1", 0), Proxy) as proxy:
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        ranges = HttpPwnedRanges("http://127.0.0.2:9/range/", timeout=2)
        assert ranges.suffixes("ABCDE")["0018A45C4D1DEF81644B54AB7F969B88D65"] == 7
        proxy.shutdown()
    assert asked == ["http://127.0.0.2:9/range/ABCDE"]
