"""One-time code rules, each with an injected clock and a real SQLite store."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from sspr.domain.codes import (
    EMAIL_ALPHABET,
    EMAIL_POLICY,
    SMS_POLICY,
    CodePolicy,
    CodeService,
)
from sspr.domain.errors import CodeExpired, CodeInvalid, DeliveryFailed, ResendTooSoon, TooManySends
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock

SECRET = b"0123456789abcdef0123456789abcdef"
ALICE = "dn:alice"
BOB = "dn:bob"
STATE = "state-1"
MAIL = "alice@example.org"
MOBILE = "+33612345678"


class Outbox:
    """Collects the codes a deliver callback receives, or fails like a dead SMTP server."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.down = False

    def __call__(self, code: str) -> None:
        if self.down:
            raise DeliveryFailed("smtp: connection refused")
        self.codes.append(code)

    @property
    def last(self) -> str:
        return self.codes[-1]


@pytest.fixture
def service(store: SqliteStore, clock: FakeClock) -> CodeService:
    return CodeService(store, clock, SECRET)


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


def send_email(
    service: CodeService, outbox: Outbox, subject: str = ALICE, **changes: object
) -> str:
    args: dict[str, object] = {
        "subject": subject,
        "channel": "email",
        "destination": MAIL,
        "password_state": STATE,
        "policy": EMAIL_POLICY,
        "deliver": outbox,
    }
    args.update(changes)
    service.issue(**args)  # type: ignore[arg-type]
    return outbox.last


def send_sms(service: CodeService, outbox: Outbox, **changes: object) -> str:
    changes = {"channel": "sms", "destination": MOBILE, "policy": SMS_POLICY, **changes}
    return send_email(service, outbox, **changes)


def verify(
    service: CodeService,
    code: str,
    *,
    subject: str = ALICE,
    channel: str = "email",
    state: str = STATE,
) -> None:
    service.verify(subject=subject, channel=channel, code=code, password_state=state)


# -- shape -----------------------------------------------------------------------------------


def test_email_codes_use_the_alphabet_without_look_alikes(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    for _ in range(20):
        code = send_email(service, outbox)
        assert len(code) == 6 and set(code) <= set(EMAIL_ALPHABET)
        clock.advance(3600)
    assert not set("0O1IL") & set(EMAIL_ALPHABET)


def test_sms_codes_are_six_digits_by_default_and_length_is_configurable(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    code = send_sms(service, outbox)
    assert len(code) == 6 and code.isdigit()
    clock.advance(60)
    code = send_sms(service, outbox, policy=replace(SMS_POLICY, length=8))
    assert len(code) == 8 and code.isdigit()


def test_policy_rejects_untypable_alphabets() -> None:
    with pytest.raises(ValueError):
        CodePolicy(length=6, alphabet="abc", ttl=60)
    with pytest.raises(ValueError):
        CodePolicy(length=6, alphabet="AAB", ttl=60)


# -- single use, expiry, attempts ------------------------------------------------------------


def test_a_code_is_single_use(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    verify(service, code)
    with pytest.raises(CodeExpired):
        verify(service, code)


def test_typed_code_is_normalised(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    verify(service, f" {code[:3].lower()}-{code[3:].lower()} ")


def test_email_code_lives_fifteen_minutes(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    code = send_email(service, outbox)
    clock.advance(15 * 60 - 1)
    verify(service, code)
    clock.advance(60)
    code = send_email(service, outbox)
    clock.advance(15 * 60)
    with pytest.raises(CodeExpired):
        verify(service, code)


def test_sms_code_lives_ten_minutes(service: CodeService, outbox: Outbox, clock: FakeClock) -> None:
    code = send_sms(service, outbox)
    clock.advance(10 * 60)
    with pytest.raises(CodeExpired):
        verify(service, code, channel="sms")
    code = send_sms(service, outbox)
    clock.advance(10 * 60 - 1)
    verify(service, code, channel="sms")


def test_ttl_is_configurable(service: CodeService, outbox: Outbox, clock: FakeClock) -> None:
    code = send_email(service, outbox, policy=replace(EMAIL_POLICY, ttl=120))
    clock.advance(120)
    with pytest.raises(CodeExpired):
        verify(service, code)


def test_five_wrong_tries_kill_the_code(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    wrong = "22222" + ("3" if code[-1] != "3" else "4")
    left = []
    for _ in range(4):
        with pytest.raises(CodeInvalid) as invalid:
            verify(service, wrong)
        left.append(invalid.value.attempts_left)
    assert left == [4, 3, 2, 1]
    with pytest.raises(CodeExpired) as dead:
        verify(service, wrong)
    assert dead.value.reason == "attempts"
    with pytest.raises(CodeExpired):
        verify(service, code)  # even the right code is refused now


def test_right_code_after_some_wrong_tries(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            verify(service, "WRONG2")
    verify(service, code)


def test_cancel_revokes_the_code(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    service.cancel(subject=ALICE, channel="email")
    with pytest.raises(CodeExpired):
        verify(service, code)


# -- resend ----------------------------------------------------------------------------------


def test_resend_waits_for_the_cooldown(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    send_email(service, outbox)
    clock.advance(59)
    with pytest.raises(ResendTooSoon) as too_soon:
        send_email(service, outbox)
    assert too_soon.value.retry_after == pytest.approx(1)
    clock.advance(1)
    send_email(service, outbox)
    assert len(outbox.codes) == 2


def test_a_new_code_revokes_the_previous_one(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    first = send_email(service, outbox)
    clock.advance(60)
    second = send_email(service, outbox)
    if first != second:
        with pytest.raises(CodeExpired) as revoked:
            verify(service, first)
        assert revoked.value.reason == "revoked"
    verify(service, second)


def test_sends_per_destination_are_capped_per_hour(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    for _ in range(5):
        send_sms(service, outbox)
        clock.advance(60)
    # Another account with the same mobile shares the cap: it is the phone we protect.
    with pytest.raises(TooManySends) as capped:
        send_sms(service, outbox, subject=BOB)
    assert capped.value.retry_after == pytest.approx(3600 - 300)
    send_sms(service, outbox, subject=BOB, destination="+33698765432")  # another phone is fine
    clock.advance(3600 - 300)  # the oldest send leaves the window
    send_sms(service, outbox)
    with pytest.raises(TooManySends):
        send_sms(service, outbox, subject=BOB)


def test_cap_per_hour_is_configurable(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    policy = replace(EMAIL_POLICY, max_per_hour_per_destination=2, resend_cooldown=0)
    send_email(service, outbox, policy=policy)
    send_email(service, outbox, policy=policy)
    with pytest.raises(TooManySends):
        send_email(service, outbox, policy=policy, destination=MAIL.upper())


# -- delivery failure ------------------------------------------------------------------------


def test_failed_delivery_counts_nothing(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    code = send_email(service, outbox)
    clock.advance(60)
    outbox.down = True
    with pytest.raises(DeliveryFailed):
        send_email(service, outbox)
    outbox.down = False
    # No cooldown was taken, and the hourly quota still has its four free sends.
    for _ in range(4):
        send_email(service, outbox, subject=BOB)
        clock.advance(60)
    with pytest.raises(TooManySends):
        send_email(service, outbox)
    verify(service, code)  # the code the user already had still works


def test_failed_delivery_does_not_revoke_the_live_code(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    code = send_email(service, outbox)
    clock.advance(60)
    outbox.down = True
    with pytest.raises(DeliveryFailed):
        send_email(service, outbox)
    verify(service, code)


# -- binding ---------------------------------------------------------------------------------


def test_code_dies_when_the_password_changes(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    with pytest.raises(CodeExpired) as changed:
        verify(service, code, state="state-2")
    assert changed.value.reason == "password_changed"
    with pytest.raises(CodeExpired):
        verify(service, code)


def test_code_is_bound_to_the_account_and_channel(service: CodeService, outbox: Outbox) -> None:
    code = send_email(service, outbox)
    with pytest.raises(CodeExpired):
        verify(service, code, subject=BOB)
    with pytest.raises(CodeExpired):
        verify(service, code, channel="sms")
    send_email(service, outbox, subject=BOB, destination="bob@example.org")
    with pytest.raises(CodeInvalid):
        verify(service, code, subject=BOB)
    verify(service, code)


def test_codes_are_stored_hashed(
    service: CodeService, outbox: Outbox, store: SqliteStore, clock: FakeClock, tmp_path: Path
) -> None:
    codes = []
    for _ in range(3):
        codes.append(send_email(service, outbox))
        # Long numeric codes, so no digit run of a MAC or a float matches one by chance.
        codes.append(send_sms(service, outbox, policy=replace(SMS_POLICY, length=16)))
        clock.advance(60)
    store.close()
    dumped = b"".join(path.read_bytes() for path in tmp_path.glob("s.sqlite3*"))
    assert dumped  # the database and its WAL hold the records…
    for secret in [*codes, MAIL, MOBILE, ALICE]:
        assert secret.encode() not in dumped  # …but neither codes nor whom they were sent to


def test_codes_never_reach_the_logs(
    service: CodeService, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = send_email(service, outbox)
    with pytest.raises(CodeInvalid):
        verify(service, "WRONG2")
    verify(service, code)
    assert code not in caplog.text


# -- email link ------------------------------------------------------------------------------


def link_for(service: CodeService, code: str, subject: str = ALICE) -> str:
    return service.make_link(target="flow:1", subject=subject, channel="email", code=code, ttl=900)


def test_a_link_is_an_opaque_single_use_reference(
    service: CodeService, outbox: Outbox, store: SqliteStore, tmp_path: Path
) -> None:
    code = send_email(service, outbox)
    reference = link_for(service, code)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", reference)  # 256 random bits, nothing inside
    dumped = b"".join(path.read_bytes() for path in tmp_path.glob("s.sqlite3*"))
    assert reference.encode() not in dumped and code.encode() not in dumped  # hashes only
    proof = service.redeem_link(reference)
    assert (proof.target, proof.subject, proof.channel) == ("flow:1", ALICE, "email")
    service.verify_link(proof, password_state=STATE)
    with pytest.raises(CodeExpired):
        service.redeem_link(reference)  # single use
    with pytest.raises(CodeExpired):
        verify(service, code)  # and the code it stood for is used up too


def test_a_link_lives_and_dies_with_its_code(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    first = send_email(service, outbox)
    replaced = service.redeem_link(link_for(service, first))
    clock.advance(61)
    send_email(service, outbox)
    with pytest.raises(CodeExpired, match="revoked"):
        service.verify_link(replaced, password_state=STATE)
    changed = service.redeem_link(link_for(service, outbox.last))
    with pytest.raises(CodeExpired, match="password_changed"):
        service.verify_link(changed, password_state="state-2")
    clock.advance(61)
    late = link_for(service, send_email(service, outbox))
    clock.advance(901)
    with pytest.raises(CodeExpired):
        service.redeem_link(late)
    with pytest.raises(CodeExpired):
        service.redeem_link("")


def test_a_link_is_worth_nothing_for_another_account(service: CodeService, outbox: Outbox) -> None:
    alice_code = send_email(service, outbox)
    send_email(service, outbox, subject=BOB, destination="bob@example.org")
    proof = service.redeem_link(link_for(service, alice_code))
    forged = replace(proof, subject=BOB)
    with pytest.raises(CodeInvalid):
        service.verify_link(forged, password_state=STATE)


def test_sends_per_destination_are_capped_per_day(
    service: CodeService, outbox: Outbox, clock: FakeClock
) -> None:
    from dataclasses import replace

    daily = replace(SMS_POLICY, max_per_day_per_destination=10)
    for hour in range(2):
        for _ in range(5):
            send_sms(service, outbox, policy=daily)
            clock.advance(61)
        clock.advance(3600)  # the hourly cap frees up…
        assert hour in (0, 1)
    with pytest.raises(TooManySends) as capped:  # …but not the daily one
        send_sms(service, outbox, policy=daily)
    assert 3600 * 20 < capped.value.retry_after <= 86400
    clock.advance(86400)
    send_sms(service, outbox, policy=daily)
