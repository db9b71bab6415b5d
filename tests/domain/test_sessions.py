"""TokenSessions, the one session primitive: a random token outside, the state in the store."""

from __future__ import annotations

import pytest

from sspr.domain.flow import Flow
from sspr.domain.sessions import TokenSessions, fingerprint, slide_margin
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock


@pytest.fixture
def sessions(store: SqliteStore, clock: FakeClock) -> TokenSessions:
    return TokenSessions(store, "test", idle_ttl=600, clock=clock)


def test_a_session_holds_its_state_under_the_tokens_hash(
    sessions: TokenSessions, store: SqliteStore
) -> None:
    token = sessions.open({"dn": "uid=a", "n": 1})
    assert len(token) >= 40
    assert sessions.load(token) == {"dn": "uid=a", "n": 1}
    # The store knows the token's hash, never the token.
    assert store.get(f"test:{fingerprint(token)}") is not None
    assert store.get(f"test:{token}") is None
    assert sessions.open({}) != token


def test_unknown_and_empty_tokens_have_no_session(sessions: TokenSessions) -> None:
    assert sessions.load("") is None
    assert sessions.load("made-up") is None
    assert sessions.touch("made-up") is None


def test_the_slide_margin_is_a_minute_or_a_tenth_of_a_short_timeout() -> None:
    assert slide_margin(900) == 60
    assert slide_margin(600) == 60
    assert slide_margin(300) == 30
    assert slide_margin(60) == 6


def test_a_touch_soon_after_a_write_only_reads(
    sessions: TokenSessions, store: SqliteStore, clock: FakeClock
) -> None:
    token = sessions.open({"n": 1})
    key = f"test:{fingerprint(token)}"
    clock.advance(59)
    assert sessions.touch(token) == {"n": 1}
    assert store.ttl(key) == pytest.approx(600 - 59)  # not slid: within the margin
    clock.advance(1)
    assert sessions.touch(token) == {"n": 1}
    assert store.ttl(key) == pytest.approx(600)  # the margin reached: slid


def test_the_idle_timeout_is_exact_within_the_margin(
    sessions: TokenSessions, clock: FakeClock
) -> None:
    token = sessions.open({"n": 1})
    # A page view every 25 s: one in three writes (at 75, 150 and 225 s), 60 s having passed.
    for _ in range(10):
        clock.advance(25)
        assert sessions.touch(token) == {"n": 1}
    # The last view at 250 s, the last write at 225 s: the session dies 575 s after the last
    # view, no earlier than 600 - 60 s and never later than 600 s.
    clock.advance(574)
    assert sessions.load(token) == {"n": 1}
    clock.advance(1)
    assert sessions.load(token) is None


def test_a_new_state_is_always_written(
    sessions: TokenSessions, store: SqliteStore, clock: FakeClock
) -> None:
    token = sessions.open({"n": 1})
    clock.advance(1)
    assert sessions.touch(token, {"n": 2}) == {"n": 2}
    assert store.ttl(f"test:{fingerprint(token)}") == pytest.approx(600)
    assert sessions.load(token) == {"n": 2}


def test_a_session_written_by_a_former_version_is_slid(
    sessions: TokenSessions, store: SqliteStore
) -> None:
    token = "former"
    store.set(f"test:{fingerprint(token)}", b'{"n": 1}', 300)
    assert sessions.touch(token) == {"n": 1}
    assert store.ttl(f"test:{fingerprint(token)}") == pytest.approx(600)


def test_the_idle_timeout_slides_with_each_touch(sessions: TokenSessions, clock: FakeClock) -> None:
    token = sessions.open({"n": 1})
    clock.advance(500)
    assert sessions.touch(token) == {"n": 1}
    clock.advance(500)
    assert sessions.load(token) == {"n": 1}  # 1000 s after opening, 500 after the touch
    clock.advance(101)
    assert sessions.load(token) is None


def test_loading_does_not_slide_the_timeout(sessions: TokenSessions, clock: FakeClock) -> None:
    token = sessions.open({"n": 1})
    clock.advance(500)
    assert sessions.load(token) == {"n": 1}
    clock.advance(101)
    assert sessions.load(token) is None


def test_touch_saves_a_new_state(sessions: TokenSessions) -> None:
    token = sessions.open({"n": 1})
    assert sessions.touch(token, {"n": 2}) == {"n": 2}
    assert sessions.load(token) == {"n": 2}


def test_rotating_kills_the_old_token_and_keeps_the_state(sessions: TokenSessions) -> None:
    token = sessions.open({"n": 1})
    rotated = sessions.rotate(token)
    assert rotated != token
    assert sessions.load(token) is None
    assert sessions.load(rotated) == {"n": 1}
    again = sessions.rotate(rotated, {"n": 2})
    assert sessions.load(rotated) is None and sessions.load(again) == {"n": 2}


def test_of_two_rotations_of_one_session_only_one_goes_on(sessions: TokenSessions) -> None:
    token = sessions.open({"n": 1})
    first = sessions.rotate(token, {"n": 2})
    assert first is not None and sessions.load(first) == {"n": 2}
    # A request that loaded the session before the first rotation gets nothing.
    assert sessions.rotate(token, {"n": 3}) is None
    assert sessions.rotate("", {"n": 3}) is None


def test_closing_ends_the_session(sessions: TokenSessions) -> None:
    token = sessions.open({"n": 1})
    sessions.close(token)
    assert sessions.load(token) is None
    sessions.close("")  # nothing to close: no error


def test_kinds_of_sessions_do_not_mix(store: SqliteStore, clock: FakeClock) -> None:
    flows = TokenSessions(store, "flow", 600, clock)
    accounts = TokenSessions(store, "acct", 600, clock)
    token = flows.open({"n": 1})
    assert accounts.load(token) is None


def test_a_flow_written_by_another_version_reads_back() -> None:
    flow = Flow(id="t", profile="usager", subject="s", steps=(("question",),), available=())
    older = {k: v for k, v in flow.state().items() if k != "proved"}
    newer = dict(flow.state(), a_field_of_a_later_version=1)
    assert Flow.from_state("t", older) == flow == Flow.from_state("t", newer)
