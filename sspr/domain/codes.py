"""One-time codes sent by email or SMS: the rules every code follows, and the email link.

Rules: single use, short-lived, at most `max_attempts` tries, a resend cooldown, a cap of sends
per hour and per destination, a new code revokes the previous one, and a code is bound to the
account and to its password state. Codes are stored as HMACs and never logged.

An email link carries an opaque random reference, never the code: the store keeps the
reference's hash, pointing at the code's HMAC, for the code's lifetime, and gives it once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sspr.domain.errors import (
    CodeExpired,
    CodeInvalid,
    CodeMalformed,
    DeliveryUncertain,
    ResendTooSoon,
    TooManySends,
)
from sspr.domain.ports import Clock, Store

# No look-alikes: 0/O and 1/I/L are left out, so a code read aloud or from a phone screen is
# typed right. 2/Z, 5/S and 8/B stay: they differ in every UI font, and each letter dropped
# costs entropy. 31 symbols, 6 characters: about 8.9e8 codes against 5 tries.
EMAIL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Digits only: phones offer a numeric keypad for SMS codes.
SMS_ALPHABET = "0123456789"

SEND_WINDOW = 3600.0  # the per-destination cap counts the sends of the last hour
SEND_DAY = 86400.0
_REVOKED_KEPT = 4  # previous codes remembered, so typing one says "replaced", not "wrong"
_DASHES = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def normalize_code(typed: str) -> str:
    """Drop spaces and dashes and fold case, so " t3a-8xq " reads as "T3A8XQ"."""
    return _DASHES.sub("", unicodedata.normalize("NFKC", typed)).upper()


@dataclass(frozen=True)
class CodePolicy:
    """How codes of one channel look and live."""

    length: int
    alphabet: str
    ttl: float
    max_attempts: int = 5
    resend_cooldown: float = 60
    max_per_hour_per_destination: int = 5
    # SMS cost abuse: a daily cap too, per destination (None: only the hourly one).
    max_per_day_per_destination: int | None = None

    def __post_init__(self) -> None:
        if not 4 <= self.length <= 32:
            raise ValueError("a code has 4 to 32 characters")
        if len(set(self.alphabet)) != len(self.alphabet) or len(self.alphabet) < 2:
            raise ValueError("the alphabet needs at least two distinct characters")
        # A symbol normalisation changes could never be typed back.
        if any(normalize_code(char) != char for char in self.alphabet):
            raise ValueError("the alphabet holds only upper-case letters and digits")
        if self.ttl <= 0 or self.max_attempts < 1 or self.resend_cooldown < 0:
            raise ValueError("ttl and max_attempts must be positive, the cooldown not negative")
        if self.max_per_hour_per_destination < 1:
            raise ValueError("at least one send per hour is allowed")

    @property
    def digits_only(self) -> bool:
        """Whether codes are made of digits alone (SMS: the phone's numeric keypad)."""
        return self.alphabet.isdigit()

    def check_shape(self, typed: str) -> None:
        """Raise CodeMalformed when `typed` cannot be a code of this policy, whatever it is."""
        code = normalize_code(typed)
        if len(code) != self.length or any(char not in self.alphabet for char in code):
            raise CodeMalformed(self.length, self.digits_only)


EMAIL_POLICY = CodePolicy(length=6, alphabet=EMAIL_ALPHABET, ttl=15 * 60)
SMS_POLICY = CodePolicy(length=6, alphabet=SMS_ALPHABET, ttl=10 * 60)


@dataclass(frozen=True)
class IssuedCode:
    """What the page may show once a code is sent: when it dies and when to offer a resend."""

    expires_at: float
    resend_at: float


@dataclass(frozen=True)
class LinkProof:
    """What an email link stands for: the code it was sent with, and where it leads."""

    target: str
    subject: str
    channel: str
    mac: str


def generate_code(policy: CodePolicy) -> str:
    """A fresh random code from the policy's alphabet."""
    return "".join(secrets.choice(policy.alphabet) for _ in range(policy.length))


@dataclass(frozen=True)
class _Record:
    """What the store holds for a live code: MACs only, never the code."""

    nonce: str
    mac: str
    state: str
    max_attempts: int
    ttl: float
    revoked: tuple[str, ...] = field(default=())

    def encode(self) -> bytes:
        return json.dumps(
            [self.nonce, self.mac, self.state, self.max_attempts, self.ttl, list(self.revoked)]
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> _Record:
        nonce, mac, state, max_attempts, ttl, revoked = json.loads(raw)
        return cls(nonce, mac, state, int(max_attempts), float(ttl), tuple(revoked))


@dataclass(frozen=True)
class _Reservation:
    """The cooldown and quota slot one issue holds, so a failed delivery can give them back."""

    cooldown_key: str
    slot_keys: tuple[str, ...]
    token: bytes


class CodeService:
    """Issues and checks one-time codes, keeping only keyed hashes in the shared store.

    Codes are hashed with HMAC-SHA256 under a key derived from the server secret, not with
    argon2: a 6-character code has too few values for a slow hash to matter, the attempt limit
    is what stops online guessing, and the key is what stops offline guessing from a dumped
    store (without the key, a dumped MAC cannot be checked against candidate codes).
    """

    def __init__(self, store: Store, clock: Clock, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the code secret must hold at least 16 bytes")
        self._store = store
        self._clock = clock
        self._mac_key = _derive(secret, b"code-mac")
        self._id_key = _derive(secret, b"store-key")

    def issue(
        self,
        *,
        subject: str,
        channel: str,
        destination: str,
        password_state: str,
        policy: CodePolicy,
        deliver: Callable[[str], None],
    ) -> IssuedCode:
        """Send a new code through `deliver`; if it raises, nothing is counted and it propagates.

        The new code replaces the previous one only once delivered, so a failed resend leaves
        the code the user already has working.
        """
        reservation = self._reserve(subject, channel, destination, policy)
        code = generate_code(policy)
        try:
            deliver(code)
        except DeliveryUncertain:
            # It may still arrive (and it may have cost an SMS): the code stays valid for its
            # lifetime, and the cooldown and the quota slot it took stay taken.
            self._store_code(subject, channel, code, password_state, policy)
            raise
        except BaseException:
            self._release(reservation)
            raise
        self._store_code(subject, channel, code, password_state, policy)
        now = self._clock.now()
        return IssuedCode(expires_at=now + policy.ttl, resend_at=now + policy.resend_cooldown)

    def verify(self, *, subject: str, channel: str, code: str, password_state: str) -> None:
        """Consume the code if right; raise CodeInvalid or CodeExpired otherwise."""
        typed = self._mac("code", subject, channel, normalize_code(code))
        self._check(subject, channel, typed, password_state)

    def make_link(self, *, target: str, subject: str, channel: str, code: str, ttl: float) -> str:
        """An opaque, single-use reference to this code for a mail's link (kept only hashed)."""
        reference = secrets.token_urlsafe(32)
        mac = self._mac("code", subject, channel, normalize_code(code))
        value = json.dumps([target, subject, channel, mac]).encode()
        self._store.set(self._link_key(reference), value, ttl)
        return reference

    def redeem_link(self, reference: str) -> LinkProof:
        """What a link stands for, once: a second use, or an unknown reference, is expired."""
        raw = self._store.take(self._link_key(reference)) if reference else None
        if raw is None:
            raise CodeExpired("expired")
        target, subject, channel, mac = json.loads(raw)
        return LinkProof(target, subject, channel, mac)

    def verify_link(self, proof: LinkProof, *, password_state: str) -> None:
        """Consume the code a link stands for, as if it were typed."""
        self._check(proof.subject, proof.channel, proof.mac, password_state)

    def _check(self, subject: str, channel: str, typed: str, password_state: str) -> None:
        key = self._code_key(subject, channel)
        raw = self._store.get(key)
        used = self._store.get(f"{key}:used")
        # A code that already served (a restarted flow, a link used twice) is no guess.
        if used is not None and hmac.compare_digest(typed.encode(), used):
            raise CodeExpired("used")
        if raw is None:
            raise CodeExpired("expired")
        record = _Record.decode(raw)
        state = self._mac("state", subject, channel, password_state)
        if not hmac.compare_digest(record.state, state):
            self._store.delete(key)
            raise CodeExpired("password_changed")
        # Counted before comparing: parallel guesses cannot exceed the limit between checks.
        tries_key = f"{key}:tries:{record.nonce}"
        tries = self._store.incr(tries_key, record.ttl)
        if tries > record.max_attempts:
            self._store.delete(key)
            raise CodeExpired("attempts")
        if hmac.compare_digest(typed, record.mac):
            self._consume(key, raw, tries_key)
            # Remembered while it would have lived, so typing it again says "already used";
            # and the cooldown ends: its owner, done with it, may ask for the next one now.
            self._store.set(f"{key}:used", typed.encode(), record.ttl)
            self._store.delete(self._cooldown_key(subject, channel))
            return
        if tries >= record.max_attempts:
            self._store.delete(key)
            raise CodeExpired("attempts")
        if any(hmac.compare_digest(typed, old) for old in record.revoked):
            raise CodeExpired("revoked")
        raise CodeInvalid(attempts_left=record.max_attempts - tries)

    def cancel(self, *, subject: str, channel: str) -> None:
        """Revoke the live code of this account and channel, if any."""
        self._store.delete(self._code_key(subject, channel))

    def resend_wait(self, *, subject: str, channel: str) -> float | None:
        """Seconds before another code may be sent to this account on this channel, or None."""
        return self._store.ttl(self._cooldown_key(subject, channel))

    def _reserve(
        self, subject: str, channel: str, destination: str, policy: CodePolicy
    ) -> _Reservation:
        """Take the cooldown, then a free slot of the destination's hourly quota."""
        token = secrets.token_bytes(16)
        cooldown_key = self._cooldown_key(subject, channel)
        if not self._store.add(cooldown_key, token, policy.resend_cooldown):
            raise ResendTooSoon(self._store.ttl(cooldown_key) or 0.0)
        # One key per send, each living an hour (or a day): `add` claims a slot atomically,
        # the quota slides with time, and a failed delivery frees exactly the slots it took.
        who = self._id(destination.strip().casefold())
        quotas = [(f"dest:{who}", policy.max_per_hour_per_destination, SEND_WINDOW)]
        if policy.max_per_day_per_destination is not None:
            quotas.append((f"dest-day:{who}", policy.max_per_day_per_destination, SEND_DAY))
        taken: list[str] = []
        for prefix, count, window in quotas:
            slot = self._claim(prefix, count, window, token)
            if isinstance(slot, float):
                self._release(_Reservation(cooldown_key, tuple(taken), token))
                raise TooManySends(slot)
            taken.append(slot)
        return _Reservation(cooldown_key, tuple(taken), token)

    def _claim(self, prefix: str, count: int, window: float, token: bytes) -> str | float:
        """A free slot's key, or the seconds until one frees up."""
        slots = [f"{prefix}:{index}" for index in range(count)]
        for slot_key in slots:
            if self._store.add(slot_key, token, window):
                return slot_key
        left = [self._store.ttl(slot) for slot in slots]
        return min((t for t in left if t is not None), default=0.0)

    def _release(self, reservation: _Reservation) -> None:
        """Give back what _reserve took, unless it expired and someone else holds it now."""
        for key in (*reservation.slot_keys, reservation.cooldown_key):
            if self._store.get(key) == reservation.token:
                self._store.delete(key)

    def _store_code(
        self, subject: str, channel: str, code: str, password_state: str, policy: CodePolicy
    ) -> None:
        key = self._code_key(subject, channel)
        state = self._mac("state", subject, channel, password_state)
        previous = self._store.get(key)
        revoked: tuple[str, ...] = ()
        if previous is not None:
            old = _Record.decode(previous)
            if hmac.compare_digest(old.state, state):
                revoked = (old.mac, *old.revoked)[:_REVOKED_KEPT]
        record = _Record(
            nonce=secrets.token_hex(8),
            mac=self._mac("code", subject, channel, code),
            state=state,
            max_attempts=policy.max_attempts,
            ttl=policy.ttl,
            revoked=revoked,
        )
        self._store.set(key, record.encode(), policy.ttl)

    def _consume(self, key: str, raw: bytes, tries_key: str) -> None:
        """Take the code; only the one caller whose take returns it has succeeded."""
        taken = self._store.take(key)
        self._store.delete(tries_key)
        # Another request used it, or a newer code replaced it since we read it: fail closed.
        if taken != raw:
            raise CodeExpired("expired")

    def _link_key(self, reference: str) -> str:
        # A plain hash is enough: the reference is 256 random bits, not a guessable value.
        return "link:" + hashlib.sha256(reference.encode()).hexdigest()

    def _cooldown_key(self, subject: str, channel: str) -> str:
        return f"{self._code_key(subject, channel)}:cooldown"

    def _code_key(self, subject: str, channel: str) -> str:
        return f"code:{self._id(subject, channel)}"

    def _id(self, *parts: str) -> str:
        # Keyed, so a dumped store reveals neither accounts nor addresses: a phone number's
        # plain hash falls to enumerating every number.
        return hmac.new(self._id_key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()[:32]

    def _mac(self, label: str, subject: str, channel: str, value: str) -> str:
        message = "\0".join((label, subject, channel, value)).encode()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()


def _derive(secret: bytes, purpose: bytes) -> bytes:
    """A separate key per use of the one server secret."""
    return hmac.new(secret, b"sspr.codes.v1:" + purpose, hashlib.sha256).digest()
