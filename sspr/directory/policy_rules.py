"""The directory's own password policy, read from its entries and kept a short while.

OpenLDAP: the ppolicy entry named by the account's pwdPolicySubentry, else the configured
default. Active Directory: the PSO named by msDS-ResultantPSO (readable with rights only),
else the domain policy on the domain root. Each policy entry is read once per TTL, whatever
the number of accounts under it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ldap3 import BASE

from sspr.config import DirectoryConfig
from sspr.directory.connection import ConnectionPool
from sspr.directory.entries import decoded, first
from sspr.directory.search import search
from sspr.domain.dn import DnKey, dn_items, dn_key
from sspr.domain.errors import DirectoryRefused
from sspr.domain.ports import Clock, DirectoryPasswordRules, SystemClock, UserEntry

Values = Mapping[str, tuple[str, ...]]

PPOLICY_ATTRIBUTES = (
    "pwdMinLength",
    "pwdMaxLength",
    "pwdCheckQuality",
    "pwdInHistory",
    "pwdMinAge",
)
AD_DOMAIN_ATTRIBUTES = ("minPwdLength", "pwdProperties", "pwdHistoryLength", "minPwdAge")
AD_PSO_ATTRIBUTES = (
    "msDS-MinimumPasswordLength",
    "msDS-PasswordComplexityEnabled",
    "msDS-PasswordHistoryLength",
    "msDS-MinimumPasswordAge",
)
# pwdProperties' DOMAIN_PASSWORD_COMPLEX bit.
DOMAIN_PASSWORD_COMPLEX = 0x1
# AD's complexity: 3 classes of 4 (upper, lower, digit, other), no login nor name part.
AD_COMPLEX_CLASSES = 3
_TICKS_PER_SECOND = 10_000_000
# Policies kept per directory: a directory has a handful, but the DN comes from each account's
# pwdPolicySubentry (or PSO), so a bound keeps odd or hostile values from growing the cache.
MAX_CACHED_POLICIES = 64

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Cached:
    rules: DirectoryPasswordRules | None
    until: float


class RulesCache:
    """Rules by policy DN, each kept `ttl` seconds of the injected clock; bounded; thread-safe."""

    def __init__(self, clock: Clock, ttl: float) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[DnKey | str, _Cached] = {}

    def get(
        self, dn: str, load: Callable[[], DirectoryPasswordRules | None]
    ) -> DirectoryPasswordRules | None:
        """The rules of `dn`, loaded when absent or stale (a failed load is not kept)."""
        # The one DN comparison (case, spaces, escapes folded); an unparsable DN as written.
        key = dn_key(dn) or dn
        now = self._clock.now()
        with self._lock:
            cached = self._items.get(key)
        if cached is not None and now < cached.until:
            return cached.rules
        rules = load()
        with self._lock:
            self._items.pop(key, None)
            if len(self._items) >= MAX_CACHED_POLICIES:
                self._items = {k: c for k, c in self._items.items() if now < c.until}
            while len(self._items) >= MAX_CACHED_POLICIES:
                del self._items[next(iter(self._items))]  # the oldest loaded goes first
            self._items[key] = _Cached(rules, now + self._ttl)
        return rules

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def ppolicy_rules(dn: str, values: Values) -> DirectoryPasswordRules:
    """A ppolicy entry's rules; lengths count only when pwdCheckQuality asks for checks."""
    checks = _int(values, "pwdcheckquality") > 0
    max_length = _int(values, "pwdmaxlength") if checks else 0
    return DirectoryPasswordRules(
        source=dn,
        min_length=_int(values, "pwdminlength") if checks else 0,
        max_length=max_length or None,
        history=_int(values, "pwdinhistory"),
        min_age=_int(values, "pwdminage"),
        age_and_history_on_resets=True,
    )


def ad_domain_rules(dn: str, values: Values, *, on_resets: bool) -> DirectoryPasswordRules:
    """The domain policy on the domain root: minPwdLength, pwdProperties, history, minPwdAge."""
    complex_ = bool(_int(values, "pwdproperties") & DOMAIN_PASSWORD_COMPLEX)
    return _ad_rules(
        dn, _int(values, "minpwdlength"), complex_, _int(values, "pwdhistorylength"),
        _interval(values, "minpwdage"), on_resets,
    )  # fmt: skip


def ad_pso_rules(dn: str, values: Values, *, on_resets: bool) -> DirectoryPasswordRules:
    """A fine-grained password policy (PSO): the same rules under msDS- names."""
    complex_ = first(values.get("msds-passwordcomplexityenabled", ())).upper() == "TRUE"
    return _ad_rules(
        dn, _int(values, "msds-minimumpasswordlength"), complex_,
        _int(values, "msds-passwordhistorylength"), _interval(values, "msds-minimumpasswordage"),
        on_resets,
    )  # fmt: skip


def _ad_rules(
    dn: str, min_length: int, complex_: bool, history: int, min_age: float, on_resets: bool
) -> DirectoryPasswordRules:
    return DirectoryPasswordRules(
        source=dn,
        min_length=min_length,
        min_classes=AD_COMPLEX_CLASSES if complex_ else 0,
        forbid_user_parts=complex_,
        history=history,
        min_age=min_age,
        age_and_history_on_resets=on_resets,
    )


def domain_root(base_dn: str) -> str:
    """The domain's root (its naming context): the DC= components that end `base_dn`."""
    tail: list[str] = []
    for item in reversed(dn_items(base_dn) or []):
        if item.partition("=")[0].strip().lower() != "dc":
            break
        tail.insert(0, item.strip())
    return ",".join(tail) or base_dn


class PolicyReader:
    """Finds the policy entry of an account and reads it through the cache."""

    def __init__(
        self,
        config: DirectoryConfig,
        pool: ConnectionPool,
        clock: Clock | None,
        policy_hints: Callable[[], str | None],
    ) -> None:
        self._config = config
        self._pool = pool
        self._cache = RulesCache(clock or SystemClock(), config.policy_cache_seconds)
        # AD: resets with the policy-hints control are bound by history and age too.
        self._policy_hints = policy_hints

    def rules(self, entry: UserEntry | None) -> DirectoryPasswordRules | None:
        """The rules that apply to `entry` (to an account without a policy of its own if None)."""
        if not self._config.read_password_policy:
            return None
        named = entry.policy_dn if entry is not None else None
        if self._config.kind == "ad":
            return self._ad(named)
        dn = named or self._config.default_policy_dn
        if dn is None:
            return None
        return self._cache.get(dn, lambda: self._load(dn, PPOLICY_ATTRIBUTES, ppolicy_rules))

    def _ad(self, pso: str | None) -> DirectoryPasswordRules | None:
        on_resets = self._policy_hints() is not None
        if pso is not None:
            found = self._cache.get(pso, lambda: self._load(
                pso, AD_PSO_ATTRIBUTES, lambda dn, v: ad_pso_rules(dn, v, on_resets=on_resets),
                mandatory=True,
            ))  # fmt: skip
            if found is not None:
                return found
        root = domain_root(self._config.base_dn)
        return self._cache.get(root, lambda: self._load(
            root, AD_DOMAIN_ATTRIBUTES, lambda dn, v: ad_domain_rules(dn, v, on_resets=on_resets),
            mandatory=True,
        ))  # fmt: skip

    def _load(
        self,
        dn: str,
        attributes: Sequence[str],
        build: Callable[[str, Values], DirectoryPasswordRules],
        *,
        mandatory: bool = False,
    ) -> DirectoryPasswordRules | None:
        """Read and build; `mandatory`: the first attribute is always set on such an entry."""
        try:
            values = self._read(dn, attributes)
        except DirectoryRefused as refused:
            # No right to read it: the directory still enforces it at the write.
            _logger.warning("password policy %s not readable: %s", dn, refused)
            return None
        if values is None:
            _logger.warning("password policy %s not found", dn)
            return None
        if mandatory and not values.get(attributes[0].lower()):
            # AD returns the entry without the attributes the account may not read (a PSO,
            # by default): all zeros would announce no rule at all. The next policy is read.
            _logger.warning("password policy %s not readable: no %s returned", dn, attributes[0])
            return None
        return build(dn, values)

    def _read(self, dn: str, attributes: Sequence[str]) -> Values | None:
        """One BASE read of a policy entry: its values by lower-case name, None when absent."""
        found = self._pool.read(
            "password_rules",
            lambda conn: search(
                conn, dn, "(objectClass=*)", BASE, list(attributes), 1,
                time_limit=self._pool.time_limit,
            ),
        )  # fmt: skip
        return decoded(found[0][1]) if found else None


def _int(values: Values, name: str) -> int:
    try:
        return int(first(values.get(name, ())) or 0)
    except ValueError:
        return 0


def _interval(values: Values, name: str) -> float:
    """AD's intervals are negative counts of 100 ns ticks ("-864000000000" is one day)."""
    return abs(_int(values, name)) / _TICKS_PER_SECOND
