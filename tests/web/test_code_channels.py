"""Email and SMS codes, chained and chosen proofs, temporary passwords, notifications.

Mail goes through a real SMTP server (aiosmtpd); SMS through the Twilio SDK, whose HTTP
transport is replaced at its boundary; the directory is the real slapd.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd, free_port
from sspr.domain.codes import EMAIL_ALPHABET
from tests.helpers import WebAccount as Account
from tests.helpers import can_bind
from tests.web.conftest import build_app, csrf_token, https_client, submit

NEW_PASSWORD = "Un-Nouveau-Mot2passe"
EMAIL_CODE = re.compile(rf"réinitialisation de mot de passe :\s+([{EMAIL_ALPHABET}]{{6}})\b")
LINK = re.compile(r"https://motdepasse\.example\.org/reset/link/(\S+)")


def variant(settings: Settings, outbox: Outbox, audit: io.StringIO, **profile: Any) -> Flask:
    """The app with the first profile (usager) changed."""
    raw = settings.model_dump(mode="json")
    raw["profiles"][0].update(profile)
    return build_app(Settings.model_validate(raw), outbox, audit)


def email_code(outbox: Outbox) -> str:
    match = EMAIL_CODE.search(outbox.mails[0].text)
    assert match, outbox.mails[0].text
    return match.group(1)


def sms_code(outbox: Outbox) -> str:
    match = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert match
    return match.group(1)


def type_code(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    return submit(client, "/reset/code", {"code": code})


def set_password(client: FlaskClient, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return submit(client, "/reset/password", {"password": password, "confirmation": password})


# -- email --------------------------------------------------------------------------------


def test_email_code_follows_the_region_portal(
    client: FlaskClient, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("elu", mail="claire.x@demo.sspr.test")
    response = submit(client, "/reset/elu", {"identifier": account.login})
    assert response.headers["Location"] == "/reset/code"
    page = client.get("/reset/code")
    assert "c•••@d•••.test" in page.text  # the profile's own domain, masked
    (mail,) = outbox.mails
    assert mail.to == "claire.x@demo.sspr.test"
    assert mail.subject == "Validation du changement de mot de passe"
    for sentence in (
        "Ce message a été généré automatiquement – merci de ne pas y répondre.",
        "Votre demande de réinitialisation de mot de passe a bien été prise en compte.",
        "Si vous n'êtes pas l'initiateur de cette réinitialisation",
        "Conformément à la loi Informatique et Libertés du 06/01/1978",
        "L'équipe technique de la Région",
    ):
        assert sentence in mail.text
    code = email_code(outbox)
    assert LINK.search(mail.text)
    response = type_code(client, code.lower())
    assert response.headers["Location"] == "/reset/password"
    assert code not in response.headers["Location"]
    assert set_password(client).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_the_email_link_completes_the_step_in_any_browser(
    app: Flask, client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    token = LINK.search(outbox.mails[0].text).group(1)  # type: ignore[union-attr]
    phone = https_client(app)  # the mail is opened on another device
    response = phone.get(f"/reset/link/{token}")
    assert response.headers["Location"] == "/reset/link"  # the token leaves the address bar
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]  # the view's wins
    page = phone.get("/reset/link")
    assert "Confirmez la réinitialisation" in page.text  # a mail scanner's GET proves nothing
    response = submit(phone, "/reset/link", {})
    assert response.headers["Location"] == "/reset/password"
    assert set_password(phone).headers["Location"] == "/reset/done"
    # The link is single use.
    other = https_client(app)
    other.get(f"/reset/link/{token}")
    assert submit(other, "/reset/link", {}).status_code == 400


def test_the_email_link_carries_only_an_opaque_reference(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    token = LINK.search(outbox.mails[0].text).group(1)  # type: ignore[union-attr]
    code = email_code(outbox)
    # 256 random bits: no payload, no signature, nothing to decode (the code, the flow, the
    # password state stay on the server).
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token
    assert code.encode() not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_a_tampered_link_is_refused(client: FlaskClient, outbox: Outbox, make_account: Any) -> None:
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    token = LINK.search(outbox.mails[0].text).group(1)  # type: ignore[union-attr]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client.get(f"/reset/link/{forged}")
    page = submit(client, "/reset/link", {})
    assert page.status_code == 400
    assert "Lien expiré" in page.text


def test_a_typed_address_not_on_record_sends_nothing(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    make_account("elu", mail="real@mairie.fr")
    response = submit(client, "/reset/elu", {"identifier": "other@mairie.fr"})
    assert response.headers["Location"] == "/reset/code"
    page = client.get("/reset/code")
    assert "o•••@•••" in page.text  # the page looks the same (a domain not of the profile)
    assert list(outbox.mails) == []
    assert "Code incorrect. Il vous reste 4 essais." in type_code(client, "ABCDEF").text


def test_identify_by_the_address_on_record(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("elu", mail="Mixed.Case@Mairie.fr")
    submit(client, "/reset/elu", {"identifier": "mixed.case@mairie.fr"})
    assert outbox.mails[0].to == account.mail


def test_wrong_codes_count_down_and_the_code_dies(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    code = email_code(outbox)
    assert "Code incorrect. Il vous reste 4 essais." in type_code(client, "ZZZZZZ").text
    for _ in range(3):
        type_code(client, "ZZZZZZ")
    page = type_code(client, "ZZZZZZ")
    assert page.status_code == 429
    assert "Réessayez dans 15 minutes" in page.text
    # Neither the old code nor a new flow works while blocked.
    assert submit(client, "/reset/elu", {"identifier": account.login}).status_code == 429
    assert code


def test_resend_waits_for_the_cooldown(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    token = csrf_token(client.get("/reset/code").text)
    response = client.post("/reset/code/resend", data={"csrf_token": token})
    assert response.headers["Location"] == "/reset/code"
    page = html.unescape(client.get("/reset/code").text)
    assert "Un code a été envoyé il y a moins d'une minute : utilisez le dernier reçu." in page
    assert re.search(r"demander un nouveau dans \d+ secondes", page)
    assert len(outbox.mails) == 1


def test_smtp_down_says_so_and_counts_nothing(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["mail"]["smtp"]["port"] = free_port()
    raw["mail"]["smtp"]["timeout"] = 1
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    account: Account = make_account("elu")
    for _ in range(2):  # the second try is not held back by a cooldown: nothing was sent
        sent = submit(client, "/reset/elu", {"identifier": account.login})
        assert sent.headers["Location"] == "/reset/code"  # the step, which says what happened
        page = client.get("/reset/code")
        assert "Le message n'a pas pu être envoyé" in page.text
        assert "Patientez" not in page.text
    assert '"code.sent"' in audit_lines.getvalue() and '"failure"' in audit_lines.getvalue()


# -- SMS ----------------------------------------------------------------------------------


def test_sms_code(client: FlaskClient, outbox: Outbox, make_account: Any, slapd: Slapd) -> None:
    account: Account = make_account("agent-lycee", mobile="06 11 22 33 44")
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    assert "06 •• •• •• 44" in client.get("/reset/code").text
    (sms,) = outbox.sms
    assert sms.to == "+33611223344"
    assert "Votre code de vérification" in sms.body
    assert len(sms.body) <= 160
    assert type_code(client, sms_code(outbox)).headers["Location"] == "/reset/password"
    assert set_password(client, "ab12!xyz-9").headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, "ab12!xyz-9")


def test_the_sms_code_field_wants_six_digits_and_a_slip_costs_no_try(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("agent-lycee", mobile="06 11 22 33 45")
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    page = client.get("/reset/code").text
    assert re.search(r'<input[^>]*id="code"[^>]*inputmode="numeric"', page)
    assert "Le code comporte 6 chiffres et expire dans 10 minutes." in page
    for slip in ("12345", "1234567", "12a456", "ABCDEF"):
        page = type_code(client, slip).text
        assert "Le code comporte 6 chiffres." in page, slip
        assert "Code incorrect" not in page
    code = sms_code(outbox)
    wrong = "".join(str((int(digit) + 1) % 10) for digit in code)
    assert "Il vous reste 4 essais." in type_code(client, wrong).text  # the first try used
    assert type_code(client, code).headers["Location"] == "/reset/password"


def test_an_email_code_of_the_wrong_length_costs_no_try(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    page = client.get("/reset/code").text
    assert "Le code comporte 6 caractères et expire" in page and "inputmode" not in page
    page = type_code(client, "T3A8X").text
    assert "Le code comporte 6 caractères (lettres et chiffres)." in page
    assert "Il vous reste 4 essais." in type_code(client, "ZZZZZZ").text


def test_restarting_within_the_cooldown_says_the_last_code_still_works(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("agent-lycee", mobile="06 11 22 33 46")
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    restarted = https_client(client.application)  # "je recommence", moments later
    submit(restarted, "/reset/agent-lycee", {"identifier": account.login})
    assert len(outbox.sms) == 1  # nothing new was sent, and the page says so
    page = html.unescape(restarted.get("/reset/code").text)
    assert "Un code a été envoyé il y a moins d'une minute : utilisez le dernier reçu." in page
    assert re.search(r"Vous pourrez en demander un nouveau dans (59|60) secondes\.", page)
    assert type_code(restarted, sms_code(outbox)).headers["Location"] == "/reset/password"


def test_a_used_code_is_not_a_failure_and_a_restart_sends_a_new_one(
    client: FlaskClient, outbox: Outbox, make_account: Any, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("agent-lycee", mobile="06 11 22 33 47")
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    used = sms_code(outbox)
    assert type_code(client, used).headers["Location"] == "/reset/password"
    # Back to the start within the minute: the code was used, so a new one goes out.
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    assert len(outbox.sms) == 2
    page = html.unescape(client.get("/reset/code").text)
    assert "il y a moins d'une minute" not in page
    page = html.unescape(type_code(client, used).text)
    assert "Ce code a déjà servi. Saisissez le dernier code reçu" in page
    assert "Code incorrect" not in page
    wrong = "".join(str((int(digit) + 1) % 10) for digit in sms_code(outbox))
    assert "Il vous reste 4 essais." in type_code(client, wrong).text  # the stale code cost none
    assert type_code(client, sms_code(outbox)).headers["Location"] == "/reset/password"
    assert '"cause": "code_used"' in audit_lines.getvalue()


def test_no_mobile_gets_the_profile_text_when_explicit(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["profiles"][2]["not_enrolled"] = {
        "explicit": True,
        "text": {"fr": "Compte non configuré."},
        "no_mobile": {"fr": "Vous devez avoir enregistré un numéro de mobile au préalable."},
    }
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    account: Account = make_account("agent-lycee")
    page = submit(client, "/reset/agent-lycee", {"identifier": account.login})
    assert "Vous devez avoir enregistré un numéro de mobile au préalable." in page.text
    assert list(outbox.sms) == []


def test_twilio_error_is_explained(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    from sspr.delivery.sms import TwilioSmsSender
    from sspr.web.app import create_app
    from tests.delivery.test_twilio import Transport

    failing = Transport(status=400, body={"code": 21211, "message": "Invalid 'To' Phone Number"})
    sender = TwilioSmsSender("AC" + "b" * 32, "t", from_number="+15005550006", http_client=failing)
    app = create_app(settings, audit_streams=[audit_lines], sms_sender=sender, testing=True)
    client = https_client(app)
    account: Account = make_account("agent-lycee", mobile="0611223344")
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    assert "Le message n'a pas pu être envoyé" in client.get("/reset/code").text
    assert "21211" in audit_lines.getvalue()


# -- chained and chosen proofs ------------------------------------------------------------


def test_agent_du_siege_proves_by_email_then_sms(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("agent-siege", mobile="07 98 76 54 32")
    submit(client, "/reset/agent-siege", {"identifier": account.login})
    page = client.get("/reset/code")
    assert "Étape 1 sur 2" in page.text and "par email" in page.text
    assert list(outbox.sms) == []
    response = type_code(client, email_code(outbox))
    assert response.headers["Location"] == "/reset/code"
    page = client.get("/reset/code")
    assert "Étape 2 sur 2" in page.text and "07 •• •• •• 32" in page.text
    # The password page stays shut until the last step.
    assert client.get("/reset/password").headers["Location"] == "/reset/code"
    assert type_code(client, sms_code(outbox)).headers["Location"] == "/reset/password"


def test_a_choice_of_channels(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = variant(settings, outbox, audit_lines, channels=[["email", "sms"]])
    client = https_client(app)
    account: Account = make_account("usager", mail="jo@mairie.fr", mobile="0611223344")
    assert (
        submit(client, "/reset/usager", {"identifier": account.login}).headers["Location"]
        == "/reset/choose"
    )
    page = client.get("/reset/choose")
    assert "Par email à j•••@•••" in page.text  # no domain listed for the profile
    assert "Par SMS au 06 •• •• •• 44" in page.text
    assert list(outbox.mails) == [] and list(outbox.sms) == []
    response = submit(client, "/reset/choose", {"channel": "sms"})
    assert response.headers["Location"] == "/reset/code"
    assert len(outbox.sms) == 1 and list(outbox.mails) == []


# -- temporary password and notifications -------------------------------------------------


def test_temporary_password_mode(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    client = https_client(variant(settings, outbox, audit_lines, temporary_password=True))
    account: Account = make_account("usager", {"birth_city": "Sète"})
    submit(client, "/reset/usager", {"identifier": account.login})
    response = submit(client, "/reset/question", {"answer_0": "sete"})
    assert response.headers["Location"] == "/reset/temporary"
    assert submit(client, "/reset/temporary", {}).headers["Location"] == "/reset/done"
    assert (
        "Un email vous a été envoyé contenant un nouveau mot de passe"
        in client.get("/reset/done").text
    )
    (mail,) = outbox.mails
    password = re.search(r"^    (\S+)\r?$", mail.text, re.MULTILINE).group(1)  # type: ignore[union-attr]
    assert can_bind(slapd.url, account.dn, password)
    assert "pwdReset: TRUE" in slapd.search(account.dn, "(objectClass=*)", "pwdReset")
    assert password not in audit_lines.getvalue()


def test_a_reset_is_notified_without_the_password(
    client: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    submit(client, "/reset/usager", {"identifier": account.login})
    submit(client, "/reset/question", {"answer_0": "Paris"})
    set_password(client)
    (mail,) = outbox.mails
    assert mail.to == account.mail
    assert mail.subject == "Votre mot de passe a été modifié"
    assert "Si vous n'êtes pas à l'origine de cette demande" in mail.text
    assert account.login in mail.text
    assert NEW_PASSWORD not in mail.text


@pytest.mark.parametrize("lang", ["en"])
def test_mails_follow_the_users_language(
    client: FlaskClient, outbox: Outbox, make_account: Any, lang: str
) -> None:
    account: Account = make_account("elu")
    client.get(f"/lang/{lang}")
    submit(client, "/reset/elu", {"identifier": account.login})
    assert outbox.mails[0].subject == "Password change confirmation"
    assert "please do not reply" in outbox.mails[0].text


# -- deployment variants ------------------------------------------------------------------


def test_the_journey_on_the_redis_store(
    settings: Settings,
    outbox: Outbox,
    audit_lines: io.StringIO,
    make_account: Any,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSPR_REDIS_URL", redis_url)
    raw = settings.model_dump(mode="json")
    raw["store"] = {"backend": "redis", "url_env": "SSPR_REDIS_URL"}
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    assert type(app.extensions["sspr"].store).__name__ == "RedisStore"
    client = https_client(app)
    account: Account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    assert type_code(client, email_code(outbox)).headers["Location"] == "/reset/password"


def test_mail_templates_can_be_overridden_per_profile(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, tmp_path: Any
) -> None:
    folder = tmp_path / "overrides" / "mail" / "elu"
    folder.mkdir(parents=True)
    (folder / "code.txt").write_text("Code des élus : {{ code }}\n", encoding="utf-8")
    raw = settings.model_dump(mode="json")
    raw["mail"]["templates_dir"] = str(tmp_path / "overrides")
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    submit(client, "/reset/elu", {"identifier": make_account("elu").login})
    assert outbox.mails[0].text.startswith("Code des élus : ")
    other = make_account("agent-siege", mobile="0798765411")
    submit(https_client(client.application), "/reset/agent-siege", {"identifier": other.login})
    assert "générée automatiquement" not in outbox.mails[0].text  # shipped template
    assert "Ce message a été généré automatiquement" in outbox.mails[0].text


def test_the_outbox_page_exists_only_in_the_demo(client: FlaskClient, settings: Settings) -> None:
    from sspr.demo.run import demo_app

    assert client.get("/demo/outbox").status_code == 404
    outbox = Outbox()
    demo = https_client(demo_app(settings, outbox))
    page = demo.get("/demo/outbox")
    assert page.status_code == 200
    assert "Boîte d'envoi de la démonstration" in page.text
