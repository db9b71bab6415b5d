"""When a captcha is required: per profile mode, and failures counted per source address."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sspr.config import ConfigError, Profile, parse_settings
from sspr.domain.captcha import CaptchaGate, CaptchaRule
from sspr.domain.limits import Counter
from sspr.domain.sources import Source, Sources
from sspr.store.limits_storage import StoreStorage
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock

SOURCES = Sources()


def at(address: str | None) -> Source:
    return SOURCES.of(address)


def counter(tmp_path: Path, clock: FakeClock) -> Counter:
    store = SqliteStore(tmp_path / "s.sqlite3", clock)
    return Counter(StoreStorage(store, clock), clock)


@pytest.fixture
def gate(tmp_path: Path, clock: FakeClock) -> CaptchaGate:
    return CaptchaGate(counter(tmp_path, clock), CaptchaRule(failures_before=3, window=3600))


def test_off_never_and_always_always(gate: CaptchaGate) -> None:
    for _ in range(10):
        gate.record_failure(at("192.0.2.1"))
    assert not gate.required("off", at("192.0.2.1"))
    assert gate.required("always", at("198.51.100.7"))
    assert gate.required("always", at(None))


def test_after_n_failures_from_an_address(gate: CaptchaGate) -> None:
    assert not gate.required("after_failures", at("192.0.2.1"))
    assert [gate.record_failure(at("192.0.2.1")) for _ in range(2)] == [1, 2]
    assert not gate.required("after_failures", at("192.0.2.1"))
    gate.record_failure(at("192.0.2.1"))
    assert gate.required("after_failures", at("192.0.2.1"))
    # Another address has its own count.
    assert not gate.required("after_failures", at("192.0.2.2"))
    assert gate.failures(at("192.0.2.2")) == 0


def test_failures_are_forgotten_after_the_window(gate: CaptchaGate, clock: FakeClock) -> None:
    for _ in range(3):
        gate.record_failure(at("192.0.2.1"))
    clock.advance(3599)
    assert gate.required("after_failures", at("192.0.2.1"))
    clock.advance(2)
    assert not gate.required("after_failures", at("192.0.2.1"))
    assert gate.record_failure(at("192.0.2.1")) == 1  # a fresh window


def test_an_ipv6_subscriber_counts_as_its_64(gate: CaptchaGate) -> None:
    gate.record_failure(at("2001:db8:1:2::10"))
    gate.record_failure(at("2001:db8:1:2:aaaa::1"))
    gate.record_failure(at("2001:db8:1:2:ffff:ffff:ffff:ffff"))
    assert gate.required("after_failures", at("2001:db8:1:2::99"))
    assert not gate.required("after_failures", at("2001:db8:1:3::10"))


def test_the_store_holds_no_address(tmp_path: Path, clock: FakeClock) -> None:
    CaptchaGate(counter(tmp_path, clock), CaptchaRule(3, 3600)).record_failure(at("192.0.2.1"))
    assert b"192.0.2.1" not in b"".join(p.read_bytes() for p in tmp_path.glob("s.sqlite3*"))


def test_an_unknown_mode_is_a_bug(gate: CaptchaGate) -> None:
    with pytest.raises(ValueError):
        gate.required("sometimes", at("192.0.2.1"))


# -- configuration --------------------------------------------------------------------------


def profile(**changes: object) -> Profile:
    raw = {"id": "p", "label": {"fr": "P"}, "base": "ou=p", "channels": ["email"], "policy": "x"}
    return Profile.model_validate({**raw, **changes})


def test_profile_modes_default_off_and_yaml_booleans() -> None:
    assert profile().captcha == "off"
    # YAML 1.1 reads a bare `off` as false and `on` as true.
    assert profile(captcha=False).captcha == "off"
    assert profile(captcha=True).captcha == "always"
    assert profile(captcha="after_failures").captcha == "after_failures"


def test_an_unknown_mode_is_reported_with_its_path() -> None:
    raw = {
        "public_url": "https://sspr.example.org",
        "directory": {"urls": ["ldap://x"], "bind_dn": "cn=a", "base_dn": "dc=x"},
        "policies": {"x": {"min_length": 8}},
        "profiles": [
            {"id": "p", "label": {"fr": "P"}, "base": "ou=p", "channels": ["question"],
             "policy": "x", "captcha": "sometimes"},
        ],
        "questions": [{"id": "q", "text": {"fr": "Q ?"}}],
        "captcha": {"failures_before": 0},
    }  # fmt: skip
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    paths = [message.split(":")[0] for message in error.value.errors]
    assert "profiles[0].captcha" in paths
    assert "captcha.failures_before" in paths


# -- the vendored widget --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "sspr" / "web" / "static" / "vendor" / "altcha"
VENDORED = {
    "altcha.min.js": "dist/external/altcha.min.js",
    "altcha.css": "dist/external/altcha.css",
    "workers/pbkdf2.js": "dist/workers/pbkdf2.js",
    "LICENSE.txt": "LICENSE.txt",
}


def test_the_vendored_widget_is_the_pinned_version() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["altcha"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert f"Version: {pinned}\n" in (VENDOR / "README.md").read_text()
    for name in VENDORED:
        assert (VENDOR / name).is_file(), name
    installed = ROOT / "node_modules" / "altcha"
    if not installed.is_dir():
        pytest.skip("npm ci has not run: the copies cannot be compared")
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    for name, source in VENDORED.items():
        same = (VENDOR / name).read_bytes() == (installed / source).read_bytes()
        assert same, f"{name} differs from node_modules: run scripts/vendor-altcha"
