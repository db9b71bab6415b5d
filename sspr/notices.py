"""Mails and SMS rendered from templates, in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template
from flask_babel import force_locale, format_datetime, get_locale
from flask_babel import gettext as _

from sspr.config import Settings
from sspr.delivery.outbox import Notice, Outbox
from sspr.domain.channels import Channel
from sspr.domain.errors import DeliveryFailed, StoreUnavailable
from sspr.domain.ports import Mailer, OutgoingMail, SmsSender, UserEntry


class TemplateNotifier:
    """The domain's Notifier: Jinja templates (overridable per profile), SMTP and Twilio."""

    def __init__(
        self,
        settings: Settings,
        mailer: Mailer | None,
        sms_sender: SmsSender | None,
        outbox: Outbox | None = None,
    ) -> None:
        self._settings = settings
        self._mailer = mailer
        self._sms = sms_sender
        # Notices the user does not wait for go through it; codes never do.
        self._outbox = outbox

    def email_code(
        self,
        *,
        to: str,
        profile: str,
        lang: str,
        code: str,
        link: str,
        minutes: int,
        rehearsal: bool = False,
    ) -> None:
        """Mail a code and its link (the Region portal's wording, docs/reference-portals.md), or
        rehearse it for a decoy."""
        with force_locale(lang):
            subject = _("Validation du changement de mot de passe")
            mail = self._render(to, subject, "code", profile, lang, code=code, link=link,
                                minutes=minutes)  # fmt: skip
        assert self._mailer is not None  # _render checked it
        if rehearsal:
            self._mailer.rehearse(mail)
        else:
            self._mailer.send(mail)

    def sms_code(
        self, *, to: str, lang: str, code: str, minutes: int, rehearsal: bool = False
    ) -> None:
        """Text a code with the configured wording, or rehearse it for a decoy."""
        if self._sms is None or self._settings.sms is None:
            raise DeliveryFailed("no SMS sender is configured")
        text = self._settings.sms.text.get(lang).format(code=code, minutes=minutes)
        if rehearsal:
            # Twilio has no point of no return short of the send: an authenticated round
            # trip of the same API stands in for it.
            self._sms.rehearse()
            return
        self._sms.send(to, text)

    def password_changed(self, *, entry: UserEntry, profile: str, lang: str) -> None:
        """Tell the owner that the password changed, never saying what it is."""
        if not entry.mails or self._mailer is None:
            return
        with force_locale(lang):
            mail = self._render(
                entry.mails[0], _("Votre mot de passe a été modifié"), "changed", profile, lang,
                login=entry.login, when=moment_text(datetime.now(UTC)),
            )  # fmt: skip
        self._notice(mail, "password_changed", entry.dn, profile)

    def temporary_password(
        self, *, entry: UserEntry, profile: str, lang: str, password: str
    ) -> None:
        """Mail a generated password (the profile opted in to this weaker mode)."""
        if not entry.mails:
            raise DeliveryFailed("the account has no mail address")
        with force_locale(lang):
            self._mail(
                entry.mails[0], _("Votre nouveau mot de passe provisoire"), "temporary", profile,
                lang, login=entry.login, password=password,
            )  # fmt: skip

    def contact_code(self, *, to: str, profile: str, lang: str, code: str, minutes: int) -> None:
        """Mail the code that confirms a new address."""
        with force_locale(lang):
            subject = _("Confirmation de votre adresse email")
            self._mail(to, subject, "contact_code", profile, lang, code=code, minutes=minutes)

    def email_changed(self, *, to: str, profile: str, lang: str, login: str, new: str) -> None:
        """Tell the old address where the account's mail now goes (masked)."""
        with force_locale(lang):
            subject = _("L'adresse email de votre compte a été modifiée")
            mail = self._render(to, subject, "email_changed", profile, lang, login=login, new=new)
        self._notice(mail, "email_changed", None, profile)

    def personal_data_changed(self, *, to: str, profile: str, lang: str, login: str) -> None:
        """The DGFiP portal's "Une modification de vos informations personnelles…" mail."""
        with force_locale(lang):
            subject = _("Modification de vos informations personnelles")
            mail = self._render(to, subject, "personal_data_changed", profile, lang, login=login)
        self._notice(mail, "personal_data_changed", None, profile)

    def identity_code(
        self, *, to: str, channel: str, profile: str, lang: str, code: str, minutes: int
    ) -> None:
        """The helpdesk's identity check: a code the caller reads out to the agent."""
        if channel == Channel.SMS:
            helpdesk = self._settings.helpdesk
            if self._sms is None or helpdesk is None:
                raise DeliveryFailed("no SMS sender is configured")
            self._sms.send(
                to, helpdesk.identity_sms_text.get(lang).format(code=code, minutes=minutes)
            )
            return
        with force_locale(lang):
            subject = _("Votre code de vérification pour le support")
            self._mail(to, subject, "identity_code", profile, lang, code=code, minutes=minutes)

    def _mail(
        self, to: str, subject: str, name: str, profile: str, lang: str, **context: object
    ) -> None:
        message = self._render(to, subject, name, profile, lang, **context)
        assert self._mailer is not None  # _render checked it
        self._mailer.send(message)

    def _notice(self, mail: OutgoingMail, kind: str, user_dn: str | None, profile: str) -> None:
        """Hand a rendered notice to the outbox (or, without one, to the mail server now)."""
        assert self._mailer is not None  # _render checked it
        if self._outbox is not None:
            try:
                self._outbox.enqueue(Notice(mail, kind, user_dn, profile))
                return
            except StoreUnavailable:
                pass  # the queue is down, the mail server may not be: send it now
        self._mailer.send(mail)

    def _render(
        self, to: str, subject: str, name: str, profile: str, lang: str, **context: object
    ) -> OutgoingMail:
        if self._mailer is None or self._settings.mail is None:
            raise DeliveryFailed("no mail server is configured")
        mail = self._settings.mail
        context.update(
            subject=subject,
            lang=lang,
            signature=mail.signature.get(lang),
            legal_notice=mail.legal_notice.get(lang) if mail.legal_notice else "",
            support=self._support_contact(),
        )
        text = render_template([f"mail/{profile}/{name}.txt", f"mail/{name}.txt"], **context)
        html = render_template([f"mail/{profile}/{name}.html", f"mail/{name}.html"], **context)
        return OutgoingMail(to=to, subject=subject, text=text, html=html)

    def _support_contact(self) -> str:
        support = self._settings.support
        if support is not None:
            for contact in (support.email, support.phone, support.url):
                if contact:
                    return str(contact)
        return f"{str(self._settings.public_url).rstrip('/')}/support"


def moment_text(when: datetime) -> str:
    """A moment as its readers write it, in the configured time zone: « 26 novembre 2026 à
    02 h 04 » (« 1er » for the first of the month), "26 November 2026 at 02:04"."""
    # A CLDR pattern: French writes the hour « 02 h 04 », with no seconds and no offset.
    text = format_datetime(when, _("d MMMM y 'à' HH 'h' mm"))
    locale = get_locale()
    if locale is not None and locale.language == "fr" and text.startswith("1 "):
        text = "1er " + text[2:]
    return text
