"""check-config's directory rows: transport, schema, each profile's users, the rights.

Each row names what to fix by its configuration path. Nothing is written to the directory:
rights the server does not publish are probed with compares, or reported as unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sspr.config import DirectoryConfig, Profile
from sspr.directory.filters import user_class_filter
from sspr.directory.inspect import (
    INSUFFICIENT_ACCESS,
    MODIFY_EXOP_OID,
    compare,
    read_schema,
    root_dse,
)
from sspr.directory.ldap import LdapDirectory
from sspr.domain.ports import DirectoryPasswordRules

# Accounts counted per profile: enough to tell "none" from "some", cheap on any directory.
SAMPLE = 20
# What sspr writes on AD besides the password and the recovery data (unlock, must change).
AD_WRITES = ("lockoutTime", "pwdLastSet")


@dataclass(frozen=True)
class Check:
    """One row of the report: what was tested, whether it passed, and the precise detail.

    A warning passes, but says what could not be checked or should be looked at.
    """

    name: str
    ok: bool
    detail: str
    warning: bool = False


def transport_check(config: DirectoryConfig) -> Check:
    """ldaps, StartTLS or clear text; AD refuses password writes without TLS."""
    clear = [u for u in config.urls if u.startswith("ldap://") and not config.tls.start_tls]
    states = sorted({_transport(u, config.tls.start_tls) for u in config.urls})
    detail = ", ".join(states) + ("" if config.tls.verify else " (certificate not verified)")
    name = "directory: transport"
    if clear and config.kind == "ad":
        return Check(
            name,
            False,
            f"{detail}: {', '.join(clear)} is clear text, and Active "
            "Directory writes passwords only over TLS: use ldaps:// or tls.start_tls",
        )
    if clear:
        return Check(name, True, f"{detail}: passwords cross the network readable", warning=True)
    if not config.tls.verify:
        return Check(name, True, detail, warning=True)
    return Check(name, True, detail)


def _transport(url: str, start_tls: bool) -> str:
    if url.startswith("ldaps://"):
        return "ldaps"
    return "StartTLS" if start_tls else "clear"


Named = list[tuple[str, str]]


def configured_names(config: DirectoryConfig, root: str = "directory") -> tuple[Named, Named]:
    """(config path, attribute) and (config path, object class) of everything sspr uses;
    paths start at `root` (directories.<name> when there are several)."""
    names = config.attributes
    at = f"{root}.attributes"
    attributes = [
        (f"{at}.login", names.login),
        (f"{at}.mail", names.mail),
        *((f"{at}.mobile[{i}]", n) for i, n in enumerate(names.mobile)),
        (f"{at}.answers", names.answers),
        (f"{at}.display_name", names.display_name),
        *((f"{at}.name_parts[{i}]", n) for i, n in enumerate(names.name_parts)),
    ]
    if names.reminder:
        attributes.append((f"{at}.reminder", names.reminder))
    if config.member_of_attribute:
        attributes.append((f"{root}.member_of_attribute", config.member_of_attribute))
    classes = [(f"{root}.user_object_class", config.user_object_class)]
    if names.recovery_object_class:
        classes.append((f"{at}.recovery_object_class", names.recovery_object_class))
    return attributes, classes


def schema_checks(
    directory: LdapDirectory, config: DirectoryConfig, root: str = "directory"
) -> list[Check]:
    """One row per configured attribute or class the server's subschema lacks, or one OK."""
    subentry = (root_dse(directory).get("subschemasubentry") or [""])[0]
    if not subentry:
        return [Check("schema", True, "the server publishes no subschema: not checked", True)]
    schema = read_schema(directory, subentry)
    attributes, classes = configured_names(config, root)
    rows = [
        Check(f"schema: {path}", False, f'attribute "{name}" is not in the server\'s schema')
        for path, name in attributes
        if name.lower() not in schema.attributes
    ] + [
        Check(f"schema: {path}", False, f'object class "{name}" is not in the server\'s schema')
        for path, name in classes
        if name.lower() not in schema.classes
    ]
    total = f"{len(attributes)} attributes and {len(classes)} object classes found in {subentry}"
    return rows or [Check("schema", True, total)]


def profile_checks(
    directory: LdapDirectory, config: DirectoryConfig, profile: Profile
) -> list[Check]:
    """The profile's users (as identification finds them), then what sspr may do with them."""
    user_filter = f"(&{user_class_filter(config)}{profile.filter})"
    names = config.attributes
    wanted = [names.login, names.mail, names.answers, *names.mobile]
    users = directory.read_entries(profile.base, user_filter, wanted, SAMPLE)
    row = f"profile {profile.id}: users"
    if not users:
        return [Check(row, False, _nobody(directory, config, profile))]
    count = f"{len(users)}{'+' if len(users) == SAMPLE else ''} account(s)"
    filled = {
        kind: sum(1 for _, values in users if values.get(attribute.lower()))
        for kind, attribute in (("login", names.login), ("email", names.mail))
        if kind in profile.identifier
    }
    detail = ", ".join(f"{kind} filled on {n}/{len(users)}" for kind, n in filled.items())
    empty = [kind for kind, n in filled.items() if n == 0]
    checks = [Check(row, not empty, f"{count}; {detail}")]
    checks.append(rights_check(directory, config, profile, users[0][0]))
    return checks


def _nobody(directory: LdapDirectory, config: DirectoryConfig, profile: Profile) -> str:
    """Why no account was found: nothing under base+filter, or none of the user class."""
    others = directory.read_entries(profile.base, profile.filter, [], SAMPLE)
    if not others:
        return f"no entry under {profile.base} matches {profile.filter}"
    return (
        f"{len(others)} entr(ies) under {profile.base} match {profile.filter}, but none is of "
        f"class {config.user_object_class} (directory.user_object_class): every "
        "identification would get the neutral page"
    )


def rights_check(
    directory: LdapDirectory, config: DirectoryConfig, profile: Profile, sample: str
) -> Check:
    """The service account's rights on a sample user, as far as the server tells."""
    if config.kind == "ad":
        return _ad_rights(directory, config, profile, sample)
    return _openldap_rights(directory, config, profile, sample)


def _ad_rights(
    directory: LdapDirectory, config: DirectoryConfig, profile: Profile, dn: str
) -> Check:
    """What allowedAttributesEffective says the service account may write on `dn`.

    It lists attributes writable by property rights; the Reset Password extended right,
    the usual way to allow unicodePwd, is not among them, so its absence is not a failure.
    """
    effective = "allowedAttributesEffective"
    found = directory.read_entries(
        dn, "(objectClass=*)", [effective, "objectClass"], 1, scope="BASE"
    )
    values = found[0][1].get(effective.lower(), []) if found else []
    allowed = {value.lower() for value in values}
    classes = {value.lower() for value in (found[0][1].get("objectclass", []) if found else [])}
    names = config.attributes
    needed = list(dict.fromkeys([*AD_WRITES, names.answers, *names.mobile, names.mail]))
    notes = []
    recovery_class = names.recovery_object_class
    if recovery_class and recovery_class.lower() not in classes:
        # AD lists only the attributes of the classes the entry has (Samba 4.17 checked):
        # the answers' attribute cannot be judged on an entry without the auxiliary class.
        needed.remove(names.answers)
        notes.append(f"{names.answers}: not checked, {dn} has no {recovery_class} yet")
    missing = [n for n in needed if n.lower() not in allowed]
    name = f"profile {profile.id}: rights"
    if missing:
        return Check(name, False, f"the service account may not write {', '.join(missing)} on {dn}")
    detail = f"may write {', '.join(needed)} on {dn}"
    if "unicodepwd" not in allowed:
        notes.append("unicodePwd: the Reset Password right is not published there, not checked")
    else:
        detail += ", and unicodePwd"
    return Check(name, True, "; ".join([detail, *notes]), warning=bool(notes))


def _openldap_rights(
    directory: LdapDirectory, config: DirectoryConfig, profile: Profile, dn: str
) -> Check:
    name = f"profile {profile.id}: rights"
    names = config.attributes
    refused = [
        attribute
        for attribute in dict.fromkeys([names.answers, names.mail, *names.mobile, "pwdChangedTime"])
        if compare(directory, dn, attribute) == INSUFFICIENT_ACCESS
    ]
    if refused:
        return Check(name, False, f"the service account may not read {', '.join(refused)} on {dn}")
    return Check(
        name,
        True,
        f"reads {names.answers}, {names.mail} and the password state on {dn}; "
        "write access is not published by OpenLDAP and was not tried",
        warning=True,
    )


def server_checks(directory: LdapDirectory, config: DirectoryConfig) -> list[Check]:
    """What the server offers that sspr relies on: the password exop and ppolicy (OpenLDAP)."""
    if config.kind == "ad":
        return []
    dse = root_dse(directory)
    checks = []
    if MODIFY_EXOP_OID in dse.get("supportedextension", []):
        checks.append(Check("directory: password modify", True, "RFC 3062 extended operation"))
    else:
        checks.append(
            Check(
                "directory: password modify",
                False,
                "the server does not advertise RFC 3062 (password modify)",
            )
        )
    policies = [
        dn
        for context in dse.get("namingcontexts", [])
        for dn, _ in directory.read_entries(
            context, "(objectClass=pwdPolicy)", [], SAMPLE, missing_ok=True
        )
    ]
    if policies:
        checks.append(
            Check(
                "directory: ppolicy", True, f"{len(policies)} policy entr(ies), e.g. {policies[0]}"
            )
        )
    else:
        checks.append(
            Check(
                "directory: ppolicy",
                True,
                "no pwdPolicy entry readable: lockout and expiry states cannot be checked",
                warning=True,
            )
        )
    return checks


def policy_check(directory: LdapDirectory, config: DirectoryConfig) -> list[Check]:
    """The password policy shown before typing to accounts without one of their own."""
    name = "directory: password policy"
    if not config.read_password_policy:
        return [Check(name, True, "not read (read_password_policy: false)")]
    rules = directory.password_rules(None)
    if rules is not None:
        return [Check(name, True, f"{rules.source}: {_summary(rules)}")]
    if config.kind == "ad":
        return [Check(name, False, "the domain policy is not readable on the domain root")]
    if config.default_policy_dn is None:
        return [Check(name, True, "default_policy_dn is not set: accounts without a "
                      "pwdPolicySubentry see sspr's rules only", warning=True)]  # fmt: skip
    return [Check(name, False, f"default_policy_dn {config.default_policy_dn} is not readable")]


def _summary(rules: DirectoryPasswordRules) -> str:
    parts = [f"{rules.min_length}+ characters"]
    if rules.max_length:
        parts.append(f"at most {rules.max_length}")
    if rules.min_classes:
        parts.append(f"{rules.min_classes} classes, no name parts")
    if rules.history:
        parts.append(f"{rules.history} in history")
    if rules.min_age:
        parts.append(f"minimum age {rules.min_age:g} s")
    return ", ".join(parts)
