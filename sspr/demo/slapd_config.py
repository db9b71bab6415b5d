"""The LDIF a private slapd starts from: cn=config (modules, schemas, the mdb database,
ACLs, ppolicy) and the suffix's base entries; and the LDIF helpers the demo and tests use."""

from __future__ import annotations

import base64
import hashlib
import secrets
from importlib import resources
from pathlib import Path
from typing import Protocol

from sspr.demo.tls import tls_settings


class Slapd(Protocol):
    """What the LDIF is made from: the server's folder, suffix, accounts and options."""

    workdir: Path
    suffix: str
    root_dn: str
    root_password: str
    service_dn: str
    service_password: str
    tls: bool
    member_of: bool


MODULE_PATH = "/usr/lib/ldap"
SYSTEM_SCHEMAS = ("core", "cosine", "inetorgperson")
SCHEMA_DIR = Path("/etc/ldap/schema")
# Attributes the service account writes: password, recovery data, and the ppolicy
# state it resets when it unlocks an account.
SERVICE_WRITES = (
    "ssprRecoveryAnswer",
    "ssprReminderSnoozedUntil",
    "mobile",
    "mail",
    "pager",
    "pwdReset",
    "pwdAccountLockedTime",
    "pwdFailureTime",
    "objectClass",
)


class SlapdError(RuntimeError):
    """slapd or one of the OpenLDAP tools failed; the message holds their output."""


def sspr_schema_ldif() -> str:
    """Return the sspr schema in cn=config LDIF, as shipped inside the package."""
    return resources.files("sspr.demo").joinpath("ldap/sspr-schema.ldif").read_text("utf-8")


def ssha(password: str) -> str:
    """Hash a password as {SSHA}, which slapd verifies on bind."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt, usedforsecurity=False).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def ldif_attr(name: str, value: str) -> str:
    """Render one LDIF attribute line, base64 when the value is not plain ASCII."""
    plain = value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<"))
    if plain and not value.endswith(" "):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"


def config_ldif(slapd: Slapd) -> str:
    """The cn=config tree: modules, schemas, the mdb database, ACLs and ppolicy."""
    schemas = [(SCHEMA_DIR / f"{name}.ldif").read_text("utf-8") for name in SYSTEM_SCHEMAS]
    global_entry = _GLOBAL + (tls_settings(slapd.workdir / "tls") if slapd.tls else "")
    return "\n\n".join(
        [
            global_entry,
            _modules(slapd),
            _SCHEMA_ROOT,
            *schemas,
            sspr_schema_ldif(),
            _database(slapd),
        ]
    )


_GLOBAL = """dn: cn=config
objectClass: olcGlobal
cn: config
olcLogLevel: none"""


def _modules(slapd: Slapd) -> str:
    member_of = "\nolcModuleLoad: memberof" if slapd.member_of else ""
    return _MODULES.replace("olcModuleLoad: ppolicy", "olcModuleLoad: ppolicy" + member_of)


_MODULES = f"""dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_PATH}
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcAccess: {{0}}to dn.base="" by * read
olcAccess: {{1}}to dn.base="cn=Subschema" by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none"""

_SCHEMA_ROOT = """dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema"""


def _database(slapd: Slapd) -> str:
    """The mdb database of the suffix, its ACLs and the ppolicy overlay."""
    suffix, service = slapd.suffix, slapd.service_dn
    acls = [
        # The service account writes passwords and checks a candidate (auth), but never
        # reads a hash.
        f'to attrs=userPassword by dn.exact="{service}" =wx by self write'
        " by anonymous auth by * none",
        # Old hashes are ppolicy's business only (it bypasses ACLs internally).
        "to attrs=pwdHistory by * none",
        f'to attrs={",".join(SERVICE_WRITES)} by dn.exact="{service}" write by self read by * none',
        f'to dn.subtree="{suffix}" by dn.exact="{service}" read by self read by * none',
    ]
    lines = [
        "dn: olcDatabase={1}mdb,cn=config",
        "objectClass: olcDatabaseConfig",
        "objectClass: olcMdbConfig",
        "olcDatabase: {1}mdb",
        f"olcSuffix: {suffix}",
        f"olcDbDirectory: {slapd.workdir / 'data'}",
        f"olcRootDN: {slapd.root_dn}",
        f"olcRootPW: {ssha(slapd.root_password)}",
        # A throw-away database: skipping fsync keeps the tests fast. LMDB's default map (10
        # MiB) fills up under a benchmark's thousands of accounts; the map is sparse on disk.
        "olcDbEnvFlags: nosync",
        "olcDbMaxSize: 1073741824",
        "olcDbIndex: objectClass eq",
        "olcDbIndex: uid,mail eq",
        *(f"olcAccess: {{{index}}}{acl}" for index, acl in enumerate(acls)),
        "",
        "dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config",
        "objectClass: olcOverlayConfig",
        "objectClass: olcPPolicyConfig",
        "olcOverlay: {0}ppolicy",
        f"olcPPolicyDefault: cn=default,ou=policies,{suffix}",
        "olcPPolicyHashCleartext: TRUE",
        "olcPPolicyUseLockout: TRUE",
    ]
    if slapd.member_of:
        lines += [
            "",
            "dn: olcOverlay={1}memberof,olcDatabase={1}mdb,cn=config",
            "objectClass: olcOverlayConfig",
            "objectClass: olcMemberOf",
            "olcOverlay: {1}memberof",
        ]
    return "\n".join(lines)


def base_ldif(slapd: Slapd) -> str:
    """The suffix, its organisational units, the service account and the policies."""
    suffix = slapd.suffix
    entries = [
        _suffix_entry(suffix),
        *(
            f"dn: ou={ou},{suffix}\nobjectClass: organizationalUnit\nou: {ou}"
            for ou in ("people", "services", "policies")
        ),
        f"dn: {slapd.service_dn}\nobjectClass: organizationalRole\n"
        f"objectClass: simpleSecurityObject\ncn: sspr\n"
        f"description: sspr service account\nuserPassword: {ssha(slapd.service_password)}",
        _policy(suffix, "default", min_age=0),
        _policy(suffix, "young", min_age=3600),
    ]
    return "\n\n".join(entries) + "\n"


def _suffix_entry(suffix: str) -> str:
    """The top entry, whose object classes depend on its naming attribute."""
    attr, _, value = suffix.split(",", 1)[0].partition("=")
    classes = {
        "dc": ["dcObject", "organization"],
        "o": ["organization"],
        "ou": ["organizationalUnit"],
    }.get(attr.strip().lower())
    if classes is None:
        raise SlapdError(f"unsupported suffix {suffix!r}: start it with dc=, o= or ou=")
    lines = [f"dn: {suffix}", *(f"objectClass: {name}" for name in classes)]
    lines.append(ldif_attr(attr.strip(), value.strip()))
    if attr.strip().lower() == "dc":
        lines.append("o: sspr demo")
    return "\n".join(lines)


def _policy(suffix: str, name: str, *, min_age: int) -> str:
    """A ppolicy entry; sspr's own engine checks the profile rules first."""
    return f"""dn: cn={name},ou=policies,{suffix}
objectClass: organizationalRole
objectClass: pwdPolicy
cn: {name}
pwdAttribute: userPassword
pwdMinLength: 6
pwdMinAge: {min_age}
pwdInHistory: 5
pwdLockout: TRUE
pwdMaxFailure: 5
pwdLockoutDuration: 900
pwdFailureCountInterval: 900
pwdMustChange: TRUE
pwdAllowUserChange: TRUE
pwdSafeModify: FALSE
pwdCheckQuality: 1"""
