"""The texts of the reset journey that an admin may replace, per profile and language.

A body that replaces its old portal wants its users to see the words they know: the
configuration's `texts:` map (top level for every profile, or in a profile) replaces any of
these by id. The defaults below are French msgids, translated by the catalogs; docs/texts.md
lists them (`python -m sspr.texts` writes it, and a test checks it is current).
"""

from __future__ import annotations

import re
import sys


def N_(message: str) -> str:  # noqa: N802 - the gettext convention, found by pybabel extract
    """Mark a message for extraction; it is translated where it is shown."""
    return message


# id -> (page, default French text). Placeholders: %(name)s, as in the catalogs.
JOURNEY_TEXTS: dict[str, tuple[str, str]] = {
    "footer.support": ("every page", N_("Besoin d'aide ? Contacter le support")),
    "chooser.title": ("chooser", N_("Mot de passe oublié ?")),
    "chooser.lead": (
        "chooser",
        N_("Pour vous diriger vers le bon service, cliquez sur le cas qui vous concerne :"),
    ),
    "other_situation.question": ("every step", N_("Ce n'est pas votre cas ?")),
    "other_situation.link": ("every step", N_("Choisir une autre situation")),
    "identify.kicker": ("identify", ""),
    "identify.title": ("identify", N_("Mot de passe oublié ?")),
    "identify.label.login": ("identify", N_("Nom d'utilisateur")),
    "identify.hint.login": (
        "identify",
        N_(
            "Pour redéfinir votre mot de passe, indiquez le nom d'utilisateur associé à votre "
            "identifiant de connexion."
        ),
    ),
    "identify.label.email": ("identify", N_("Adresse email")),
    "identify.hint.email": ("identify", N_("Indiquez l'adresse email associée à votre compte.")),
    "identify.label.either": ("identify", N_("Identifiant ou adresse email")),
    "identify.hint.either": (
        "identify",
        N_("Indiquez votre identifiant (prénom.nom) ou l'adresse email associée à votre compte."),
    ),
    "identify.submit": ("identify", N_("Poursuivre")),
    "choose.title": ("channel choice", N_("Vérification de votre identité")),
    "choose.label": ("channel choice", N_("Comment souhaitez-vous recevoir votre code ?")),
    "choose.submit": ("channel choice", N_("Recevoir le code")),
    "question.title": ("question", N_("Redéfinir le mot de passe")),
    "question.lead": ("question", N_("Répondez à votre question de sécurité.")),
    "question.lead.several": ("question", N_("Répondez à vos questions de sécurité.")),
    "question.hint": (
        "question",
        N_(
            "La réponse n'est sensible ni aux majuscules, ni aux accents, ni à la ponctuation "
            "(tirets, apostrophes, points), ni aux espaces en trop."
        ),
    ),
    "question.submit": ("question", N_("Valider")),
    "code.title": ("code", N_("Saisissez le code de sécurité")),
    "code.lead.email": ("code", N_("Saisissez le code que vous avez reçu par email.")),
    "code.lead.sms": ("code", N_("Saisissez le code que vous avez reçu par SMS.")),
    "code.sent.email": (
        "code",
        N_(
            "Si ce compte existe, un code vous a été envoyé par email à %(destination)s. Vous "
            "pouvez aussi cliquer sur le lien du message."
        ),
    ),
    "code.sent.sms": (
        "code",
        N_(
            "Si ce compte existe et qu'un mobile y est enregistré, un code vous a été envoyé par "
            "SMS au %(destination)s."
        ),
    ),
    "code.label": ("code", N_("Code de sécurité")),
    "code.submit": ("code", N_("Valider")),
    "code.help.title": ("code", N_("Vous n'avez rien reçu ?")),
    "code.help.situation": (
        "code",
        N_(
            "Vérifiez que vous avez choisi la bonne situation : le code n'est envoyé qu'aux "
            "comptes de la situation choisie, à la coordonnée enregistrée sur le compte."
        ),
    ),
    "code.help.email": (
        "code",
        N_(
            "Un email peut mettre quelques minutes à arriver : regardez aussi dans vos courriers "
            "indésirables (spam)."
        ),
    ),
    "code.help.sms": (
        "code",
        N_(
            "Un SMS peut mettre quelques minutes à arriver : vérifiez que votre téléphone capte "
            "le réseau."
        ),
    ),
    "code.help.support": (
        "code",
        N_("Demandez un nouveau code ci-dessous. Si rien n'arrive toujours, contactez le support."),
    ),
    "code.resend": ("code", N_("Renvoyer un code")),
    "contact.link": ("code, not enrolled", N_("Nous contacter")),
    "password.title": ("new password", N_("Saisissez un nouveau mot de passe")),
    "password.label": ("new password", N_("Nouveau mot de passe")),
    "password.confirmation": ("new password", N_("Confirmez le nouveau mot de passe")),
    "password.submit": ("new password", N_("Réinitialiser")),
    "temporary.title": ("temporary password", N_("Recevoir un nouveau mot de passe")),
    "temporary.text": (
        "temporary password",
        N_(
            "Un nouveau mot de passe provisoire va vous être envoyé par email à l'adresse "
            "enregistrée sur votre compte. Vous devrez le changer à votre prochaine connexion."
        ),
    ),
    "temporary.submit": ("temporary password", N_("Envoyer le mot de passe")),
    "success.title": ("success", N_("Votre mot de passe est modifié")),
    "success.text": (
        "success",
        N_("Vous pouvez dès lors vous connecter avec votre nouveau mot de passe."),
    ),
    "success.temporary": (
        "success",
        N_(
            "Un email vous a été envoyé contenant un nouveau mot de passe. Vous devrez le changer "
            "à votre prochaine connexion."
        ),
    ),
    "success.continue": ("success", N_("Continuer")),
    "not_enrolled.title": ("not enrolled", N_("Réinitialisation impossible")),
}

# Ids shown only once configured: nothing stands there by default.
OPTIONAL = frozenset({"identify.kicker"})

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def placeholders(text: str) -> set[str]:
    """The %(name)s placeholders of a text."""
    return set(PLACEHOLDER.findall(text))


def override_problem(message_id: str, text: str) -> str | None:
    """Why an admin's text cannot replace this id, if it cannot."""
    if message_id not in JOURNEY_TEXTS:
        return f'unknown text id "{message_id}" (docs/texts.md lists them)'
    allowed = placeholders(JOURNEY_TEXTS[message_id][1])
    unknown = placeholders(text) - allowed
    if unknown:
        known = ", ".join(f"%({name})s" for name in sorted(allowed)) or "none"
        return f"{message_id}: unknown placeholder %({sorted(unknown)[0]})s (known: {known})"
    if "%" in PLACEHOLDER.sub("", text).replace("%%", ""):
        return f'{message_id}: write a lone "%" as "%%"'
    return None


def markdown() -> str:
    """docs/texts.md: every id, where it shows and its French default."""
    lines = [
        "# Texts an admin can replace",
        "",
        "<!-- Generated by `python -m sspr.texts > docs/texts.md`; a test checks it. -->",
        "",
        "Every text of the reset journey below can be replaced in the configuration, for all",
        "profiles (top-level `texts:`) or for one (`texts:` in the profile, which wins), in",
        "French, English or both. A language left out keeps the shipped text, translated.",
        "An unknown id, or a placeholder the text does not have, is a configuration error",
        "(`sspr check-config`). Write a lone `%` as `%%`.",
        "",
        "```yaml",
        "texts:  # for every profile; the same map inside a profile is for it alone",
        '  identify.label.either: {fr: "Nom d\'utilisateur", en: "Username"}',
        '  password.confirmation: {fr: "Spécifiez à nouveau le mot de passe"}',
        "```",
        "",
        "Ids marked *(optional)* show nothing until configured.",
        "",
        "| id | page | French default |",
        "|---|---|---|",
    ]
    for message_id, (page, text) in JOURNEY_TEXTS.items():
        default = "*(optional)*" if message_id in OPTIONAL else text.replace("|", "\\|")
        lines.append(f"| `{message_id}` | {page} | {default} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
