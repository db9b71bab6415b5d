"""`sspr explain IDENTIFIER`: the real directory, the service account, an audited report."""

from __future__ import annotations

import getpass
from collections.abc import Callable

from sspr.config import Settings
from sspr.config.secrets import Secrets
from sspr.directory.routing import open_directory
from sspr.domain.audit import AuditLog
from sspr.domain.explain import Explainer, Explanation, Match, when
from sspr.services import audit_streams, command_audit_trail


def run_explain(
    settings: Settings, secrets: Secrets, identifier: str, profile_id: str | None
) -> Explanation:
    """Explain one identifier with the configured directory; the audit goes where sspr's does."""
    directory = open_directory(settings, secrets.ldap_passwords)
    rules = settings.to_domain()
    # The store's trail too, so the helpdesk's pages name the run.
    audit = AuditLog(
        audit_streams(settings, None),
        trail=command_audit_trail(settings, secrets),
        directory_of=rules.audit_directory,
    )
    try:
        explainer = Explainer(rules, directory, audit)
        return explainer.explain(identifier, profile_id=profile_id, agent=f"cli:{_user()}")
    finally:
        directory.close()


def render(explanation: Explanation, out: Callable[[str], None] = print) -> None:
    """Print the report: entries first, then what each profile's form would show."""
    count = len(explanation.matches)
    more = " (more not shown)" if explanation.more else ""
    out(f'identifier "{explanation.identifier}": {count} entr{"y" if count == 1 else "ies"}{more}')
    for match in explanation.matches:
        _render_match(match, out)
    out("pages:")
    for verdict in explanation.verdicts:
        out(f"  profile {verdict.profile}: {verdict.page} ({verdict.why})")


def _render_match(match: Match, out: Callable[[str], None]) -> None:
    entry, enrolled = match.entry, match.enrolment
    out(f"  {entry.dn}" + (f" (directory {match.directory})" if match.directory else ""))
    out(f"    login {entry.login}, name {entry.display_name or '-'}")
    out(f"    profiles: {', '.join(match.profiles) or 'none'}")
    for profile_id, why in match.not_in.items():
        out(f"      not in {profile_id}: {why}")
    out(f"    channels: {', '.join(match.channels) or 'none'}")
    questions = ", ".join(enrolled.questions) or "none"
    out(f"    enrolled: {enrolled.answers} answer(s) (questions: {questions})")
    out(f"      mail: {', '.join(enrolled.mails) or 'none'}")
    out(f"      mobile: {', '.join(enrolled.mobiles) or 'none'}")
    lock = entry.lock.value + (f" since {when(entry.locked_at)}" if entry.locked_at else "")
    out(
        f"    state: lock {lock}, disabled {_yes(entry.disabled)}, must change "
        f"{_yes(entry.must_change)}, password changed {when(entry.password_changed_at)}"
    )
    # Its rules are merged into the pages' (docs/directory-policy.md); check-config reads them.
    out(f"    password policy: {entry.policy_dn or 'the default one (none named by the entry)'}")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
