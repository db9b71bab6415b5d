"""The YAML configuration, validated at start-up into typed objects.

Each section lives in the module of its area; this package re-exports them, so callers
import from `sspr.config` alone.
"""

from sspr.config.account import AccountSessions, HelpdeskConfig
from sspr.config.base import CodeText, LdapFilter, Network, Strict, Text, parenthesised_filter
from sspr.config.delivery import CodeRules, CodesConfig, MailConfig, SmsConfig, SmtpConfig
from sspr.config.directory import AttributeNames, DirectoryConfig, TlsConfig
from sspr.config.loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ConfigError,
    config_path,
    load_settings,
    parse_settings,
)
from sspr.config.policies import BreachConfig, PolicyConfig, load_forbidden_words
from sspr.config.profiles import (
    CHANNELS,
    CaptchaMode,
    IdentifierKindName,
    NotEnrolledConfig,
    Profile,
    Question,
    Support,
)
from sspr.config.security import (
    AnswerHashing,
    AttemptLimit,
    CaptchaConfig,
    MonitoringConfig,
    ProxyConfig,
    RateLimits,
)
from sspr.config.settings import AuditConfig, Branding, Settings, reference_errors
from sspr.config.store import StoreConfig
from sspr.config.texts import TextOverride, Texts

__all__ = [
    "CHANNELS",
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "AccountSessions",
    "AnswerHashing",
    "AttemptLimit",
    "AttributeNames",
    "AuditConfig",
    "Branding",
    "BreachConfig",
    "CaptchaConfig",
    "CaptchaMode",
    "CodeRules",
    "CodeText",
    "CodesConfig",
    "ConfigError",
    "DirectoryConfig",
    "HelpdeskConfig",
    "IdentifierKindName",
    "LdapFilter",
    "MailConfig",
    "MonitoringConfig",
    "Network",
    "NotEnrolledConfig",
    "PolicyConfig",
    "Profile",
    "ProxyConfig",
    "Question",
    "RateLimits",
    "Settings",
    "SmsConfig",
    "SmtpConfig",
    "StoreConfig",
    "Strict",
    "Support",
    "Text",
    "TextOverride",
    "Texts",
    "TlsConfig",
    "config_path",
    "load_forbidden_words",
    "load_settings",
    "parenthesised_filter",
    "parse_settings",
    "reference_errors",
]
