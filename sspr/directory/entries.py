"""From raw LDAP values to typed UserEntry fields: text, GeneralizedTime, AD FILETIME."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ldap3 import MODIFY_REPLACE

from sspr.config import DirectoryConfig
from sspr.domain.ports import LockState, RecoveryField, RecoveryValue, UserEntry

RawAttributes = Mapping[str, Sequence[bytes]]
Getter = Callable[[str], tuple[str, ...]]


@dataclass(frozen=True)
class PasswordState:
    """The password-state fields of a UserEntry, as a dialect reads them."""

    changed_at: datetime | None = None
    lock: LockState = LockState.UNLOCKED
    locked_at: datetime | None = None
    disabled: bool = False
    must_change: bool = False
    account_expires_at: datetime | None = None
    account_expired: bool = False
    policy_dn: str | None = None


# A dialect's reading of its password-state attributes.
StateReader = Callable[[Getter], PasswordState]

# ppolicy's pwdAccountLockedTime for "locked until an administrator unlocks".
ADMIN_LOCK = "000001010000Z"
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def generalized_time(value: str) -> datetime | None:
    """An LDAP GeneralizedTime (20261123114900Z, fractions allowed) as aware UTC, or None."""
    text = value.strip().upper()
    if not text.endswith("Z") or len(text) < 15:
        return None
    whole, _, fraction = text[:-1].partition(".")
    try:
        when = datetime.strptime(whole, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    if fraction:
        if not fraction.isdigit():
            return None
        # Every digit kept (to the microsecond): proofs bind to the exact pwdChangedTime.
        when += timedelta(microseconds=round(int(fraction[:6].ljust(6, "0"))))
    return when


def to_generalized_time(when: datetime) -> str:
    """An aware datetime as GeneralizedTime in UTC, to the second."""
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def filetime(value: str) -> datetime | None:
    """AD's FILETIME (100 ns ticks since 1601) as aware UTC; None for 0, absent or "never"."""
    try:
        ticks = int(value)
    except ValueError:
        return None
    if ticks <= 0 or ticks >= 0x7FFFFFFFFFFFFFFF:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def entry_attributes(config: DirectoryConfig, state: Sequence[str]) -> list[str]:
    """Every attribute a UserEntry needs, so one search returns them all."""
    names = config.attributes
    wanted = [
        names.login,
        names.mail,
        *names.mobile,
        names.answers,
        *([names.reminder] if names.reminder else []),
        names.display_name,
        *names.name_parts,
        *state,
    ]
    return list(dict.fromkeys(wanted))


def recovery_attributes(config: DirectoryConfig) -> dict[str, str | None]:
    """The attribute each recovery field is written to; None when the config has none."""
    names = config.attributes
    return {
        "answers": names.answers,
        "mobile": names.mobile[0] if names.mobile else None,
        "mail": names.mail,
        "reminder": names.reminder,
    }


def user_entry(
    config: DirectoryConfig, dn: str, raw: RawAttributes, password_state: StateReader
) -> UserEntry:
    """Build a UserEntry from one search result's raw values."""
    values = decoded(raw)
    names = config.attributes

    def get(name: str) -> tuple[str, ...]:
        return values.get(name.lower(), ())

    snoozed = first(get(names.reminder)) if names.reminder else ""
    state = password_state(get)
    return UserEntry(
        dn=dn,
        login=first(get(names.login)),
        display_name=first(get(names.display_name)),
        mails=get(names.mail),
        mobiles=tuple(value for name in names.mobile for value in get(name)),
        answers=get(names.answers),
        name_parts=tuple(value for name in names.name_parts for value in get(name)),
        reminder_snoozed_until=generalized_time(snoozed) if snoozed else None,
        password_changed_at=state.changed_at,
        lock=state.lock,
        locked_at=state.locked_at,
        disabled=state.disabled,
        must_change=state.must_change,
        account_expires_at=state.account_expires_at,
        account_expired=state.account_expired,
        policy_dn=state.policy_dn,
    )


def decoded(raw: RawAttributes) -> dict[str, tuple[str, ...]]:
    """Attribute values as text, keyed by lower-case name (options such as ;binary kept)."""
    return {
        name.lower(): tuple(value.decode("utf-8", errors="replace") for value in values)
        for name, values in raw.items()
    }


def first(values: tuple[str, ...]) -> str:
    """The first value, or "" when there is none."""
    return values[0] if values else ""


def recovery_modifications(
    config: DirectoryConfig,
    time_value: Callable[[datetime], str],
    changes: Mapping[RecoveryField, Sequence[RecoveryValue]],
) -> dict[str, list[Any]]:
    """The modify of recovery fields: only the attributes the configuration names."""
    targets = recovery_attributes(config)
    modifications: dict[str, list[Any]] = {}
    for field_name, values in changes.items():
        attribute = targets.get(field_name)
        if attribute is None:
            raise ValueError(f"no attribute is configured for {field_name}")
        encoded = [time_value(v) if isinstance(v, datetime) else v for v in values]
        modifications[attribute] = [(MODIFY_REPLACE, encoded)]
    return modifications
