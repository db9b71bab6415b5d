"""User-facing sentences for domain results, in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _

from sspr.domain.errors import CodeMalformed, PasswordRefusal
from sspr.domain.policy import Rule


def rule_text(rule: Rule) -> str:
    """Describe one password rule, as the reference portals' guides word it."""
    value = rule.value
    count = value if isinstance(value, int) else 0
    match rule.code:
        case "not_current":
            return _("être différent de l'ancien")
        case "history" if count > 1:
            return _("être différent de vos %(num)d derniers mots de passe", num=count)
        case "history":
            return _("être différent de l'ancien")
        case "length" if isinstance(value, tuple):
            return _("comporter entre %(low)d et %(high)d caractères", low=value[0], high=value[1])
        case "min_length":
            return ngettext(
                "comporter au moins %(num)d caractère",
                "comporter au moins %(num)d caractères",
                count,
            )
        case "min_letters":
            return ngettext(
                "comporter au moins %(num)d lettre (majuscule ou minuscule)",
                "comporter au moins %(num)d lettres (majuscules ou minuscules)",
                count,
            )
        case "min_upper":
            return ngettext(
                "comporter au moins %(num)d majuscule",
                "comporter au moins %(num)d majuscules",
                count,
            )
        case "min_lower":
            return ngettext(
                "comporter au moins %(num)d minuscule",
                "comporter au moins %(num)d minuscules",
                count,
            )
        case "min_digit":
            return ngettext(
                "comporter au moins %(num)d chiffre", "comporter au moins %(num)d chiffres", count
            )
        case "min_special":
            return ngettext(
                "comporter au moins %(num)d caractère spécial",
                "comporter au moins %(num)d caractères spéciaux",
                count,
            )
        case "min_special_or_accented":
            return ngettext(
                "comporter au moins %(num)d caractère spécial ou un caractère accentué",
                "comporter au moins %(num)d caractères spéciaux ou accentués",
                count,
            )
        case "min_classes":
            return _(
                "mélanger au moins %(num)d types de caractères parmi : minuscules, majuscules, "
                "chiffres, caractères spéciaux",
                num=count,
            )
        case "forbidden_chars":
            return _(
                "ne pas contenir les caractères suivants : %(chars)s", chars=" ".join(str(value))
            )
        case "no_user_parts":
            return _("ne contenir ni votre identifiant ni votre nom")
        case "forbidden_words":
            return _("ne pas être un mot de passe courant ou interdit")
        case "min_entropy_bits" if isinstance(value, tuple) and value[1]:
            return _(
                "atteindre une entropie d'au moins %(bits)d bits (calcul de la CNIL), ou être "
                "une phrase de passe d'au moins %(words)d mots",
                bits=value[0],
                words=value[1],
            )
        case "min_entropy_bits" if isinstance(value, tuple):
            return _(
                "atteindre une entropie d'au moins %(bits)d bits (calcul de la CNIL)",
                bits=value[0],
            )
        case "min_guess_score":
            return _("ne pas être facile à deviner (score d'au moins %(num)d sur 4)", num=count)
        case "not_breached":
            return _("ne pas figurer dans une fuite de données connue")
    return rule.code


def too_young_text(not_before: int) -> str:
    """Why the directory will refuse any change until `not_before` (its minimum age)."""
    when = format_datetime(datetime.fromtimestamp(not_before, UTC), "medium")
    return _(
        "Votre mot de passe a été changé trop récemment : l'annuaire refusera tout nouveau "
        "mot de passe avant le %(when)s.",
        when=when,
    )


def breach_text(code: str) -> str | None:
    """Why the range service stopped a password, for the codes it adds; None for the others."""
    if code == "not_breached":
        return _(
            "Ce mot de passe figure dans des fuites de données connues : choisissez-en un "
            "autre, et changez-le partout où vous l'utilisez."
        )
    if code == "breach_unavailable":
        return _(
            "La vérification des mots de passe compromis ne répond pas pour le moment. "
            "Réessayez dans quelques minutes."
        )
    return None


def guess_feedback_text(english: str) -> str:
    """zxcvbn's advice (it speaks English) in the user's language; never the password."""
    texts = {
        "Use a few words, avoid common phrases.": _(
            "Utilisez plusieurs mots, en évitant les expressions courantes."
        ),
        "No need for symbols, digits, or uppercase letters.": _(
            "Les symboles, chiffres et majuscules ne sont pas indispensables."
        ),
        "Add another word or two. Uncommon words are better.": _(
            "Ajoutez un ou deux mots, de préférence peu courants."
        ),
        "Straight rows of keys are easy to guess.": _(
            "Les rangées de touches du clavier sont faciles à deviner."
        ),
        "Short keyboard patterns are easy to guess.": _(
            "Les motifs de clavier courts sont faciles à deviner."
        ),
        "Use a longer keyboard pattern with more turns.": _(
            "Utilisez un motif de clavier plus long, avec plus de changements de direction."
        ),
        'Repeats like "aaa" are easy to guess.': _(
            "Les répétitions comme « aaa » sont faciles à deviner."
        ),
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _(
            "Les répétitions comme « abcabcabc » sont à peine plus difficiles à deviner "
            "que « abc »."
        ),
        "Avoid repeated words and characters.": _("Évitez les mots et caractères répétés."),
        'Sequences like "abc" or "6543" are easy to guess.': _(
            "Les suites comme « abc » ou « 6543 » sont faciles à deviner."
        ),
        "Avoid sequences.": _("Évitez les suites de caractères."),
        "Recent years are easy to guess.": _("Les années récentes sont faciles à deviner."),
        "Avoid recent years.": _("Évitez les années récentes."),
        "Avoid years that are associated with you.": _(
            "Évitez les années qui vous sont associées."
        ),
        "Dates are often easy to guess.": _("Les dates sont souvent faciles à deviner."),
        "Avoid dates and years that are associated with you.": _(
            "Évitez les dates et les années qui vous sont associées."
        ),
        "This is a top-10 common password.": _(
            "C'est l'un des 10 mots de passe les plus utilisés."
        ),
        "This is a top-100 common password.": _(
            "C'est l'un des 100 mots de passe les plus utilisés."
        ),
        "This is a very common password.": _("C'est un mot de passe très courant."),
        "This is similar to a commonly used password.": _(
            "Il ressemble à un mot de passe très utilisé."
        ),
        "A word by itself is easy to guess.": _("Un mot seul est facile à deviner."),
        "Names and surnames by themselves are easy to guess.": _(
            "Un prénom ou un nom seul est facile à deviner."
        ),
        "Common names and surnames are easy to guess.": _(
            "Les prénoms et noms courants sont faciles à deviner."
        ),
        "Capitalization doesn't help very much.": _("Une majuscule au début n'aide pas beaucoup."),
        "All-uppercase is almost as easy to guess as all-lowercase.": _(
            "Tout en majuscules est presque aussi facile à deviner que tout en minuscules."
        ),
        "Reversed words aren't much harder to guess.": _(
            "Un mot écrit à l'envers n'est pas beaucoup plus difficile à deviner."
        ),
        "Predictable substitutions like '@' instead of 'a' don't help very much.": _(
            "Les substitutions prévisibles comme « @ » pour « a » n'aident pas beaucoup."
        ),
    }
    return texts.get(english, _("Ce mot de passe est facile à deviner."))


def refusal_text(reason: PasswordRefusal) -> str:
    """Explain why the directory refused a password."""
    match reason:
        case PasswordRefusal.TOO_SHORT:
            return _("L'annuaire juge ce mot de passe trop court. Choisissez-en un plus long.")
        case PasswordRefusal.IN_HISTORY:
            return _(
                "Ce mot de passe a déjà été utilisé récemment. Choisissez-en un que vous n'avez "
                "jamais utilisé."
            )
        case PasswordRefusal.QUALITY:
            return _("L'annuaire juge ce mot de passe trop faible. Choisissez-en un plus robuste.")
        case PasswordRefusal.POLICY:
            return _(
                "Ce mot de passe ne respecte pas la politique de l'annuaire (longueur, complexité, "
                "historique ou âge minimum). Choisissez-en un autre."
            )
        case PasswordRefusal.TOO_YOUNG:
            return _(
                "Votre mot de passe a été changé trop récemment pour être changé à nouveau. "
                "Réessayez plus tard."
            )
        case PasswordRefusal.LOCKED:
            return _("Ce compte est verrouillé. Contactez le support.")
        case PasswordRefusal.NOT_ALLOWED:
            return _("Le changement de ce mot de passe n'est pas autorisé. Contactez le support.")
    return _("L'annuaire a refusé ce mot de passe. Choisissez-en un autre.")


def unusable_text(why: str) -> str:
    """A disabled or expired account, told to someone who typed its right password."""
    if why == "disabled":
        return _("Votre compte est désactivé. Contactez le support pour le faire réactiver.")
    return _("Votre compte a expiré. Contactez le support pour le faire prolonger.")


def wait_text(seconds: float) -> str:
    """Say how long a block lasts, rounded up to the minute (or the hour past 90 minutes)."""
    minutes = max(1, int((seconds + 59) // 60))
    if minutes > 90:
        hours = (minutes + 59) // 60
        return ngettext(
            "Trop de tentatives infructueuses. Réessayez dans %(num)d heure.",
            "Trop de tentatives infructueuses. Réessayez dans %(num)d heures.",
            hours,
        )
    return ngettext(
        "Trop de tentatives infructueuses. Réessayez dans %(num)d minute.",
        "Trop de tentatives infructueuses. Réessayez dans %(num)d minutes.",
        minutes,
    )


def source_wait_text(seconds: float) -> str:
    """Say that a network address sent too many requests, and when to try again."""
    minutes = max(1, int((seconds + 59) // 60))
    return ngettext(
        "Trop de demandes sont venues de votre adresse réseau en peu de temps. "
        "Réessayez dans %(num)d minute.",
        "Trop de demandes sont venues de votre adresse réseau en peu de temps. "
        "Réessayez dans %(num)d minutes.",
        minutes,
    )


def wrong_answer_text(left: int) -> str:
    """A wrong answer, with the attempts left before the temporary block."""
    if left == 1:
        return _("Réponse incorrecte. Il vous reste 1 essai avant un blocage temporaire.")
    return _("Réponse incorrecte. Il vous reste %(num)d essais.", num=left)


def code_invalid_text(left: int) -> str:
    """A wrong code, with the attempts left."""
    if left == 1:
        return _("Code incorrect. Il vous reste 1 essai avant un blocage temporaire.")
    return _("Code incorrect. Il vous reste %(num)d essais.", num=left)


def code_shape_text(malformed: CodeMalformed) -> str:
    """What a code looks like, when what was typed cannot be one."""
    if malformed.digits_only:
        return ngettext(
            "Le code comporte %(num)d chiffre.", "Le code comporte %(num)d chiffres.",
            malformed.length,
        )  # fmt: skip
    return ngettext(
        "Le code comporte %(num)d caractère (lettres et chiffres).",
        "Le code comporte %(num)d caractères (lettres et chiffres).",
        malformed.length,
    )


def resend_text(seconds: float) -> str:
    """Too soon for another code."""
    wait = max(1, int(seconds + 0.999))
    return ngettext(
        "Un code vient d'être envoyé. Patientez %(num)d seconde avant d'en demander un autre.",
        "Un code vient d'être envoyé. Patientez %(num)d secondes avant d'en demander un autre.",
        wait,
    )


def recent_code_text(seconds: float) -> str:
    """No new code yet: one went out less than the cooldown ago, and it still works."""
    wait = max(1, int(seconds + 0.999))
    return ngettext(
        "Un code a été envoyé il y a moins d'une minute : utilisez le dernier reçu. Vous "
        "pourrez en demander un nouveau dans %(num)d seconde.",
        "Un code a été envoyé il y a moins d'une minute : utilisez le dernier reçu. Vous "
        "pourrez en demander un nouveau dans %(num)d secondes.",
        wait,
    )


def code_expired_text(reason: str) -> str:
    """Why a code no longer works, when that is no guess (no try was counted)."""
    if reason == "used":
        return _("Ce code a déjà servi. Saisissez le dernier code reçu, ou demandez-en un nouveau.")
    if reason == "revoked":
        return _("Ce code a été remplacé par un plus récent : saisissez le dernier code reçu.")
    return _("Ce code n'est plus valable. Demandez-en un nouveau.")


def sends_text(seconds: float) -> str:
    """The hourly cap of codes per destination is reached."""
    minutes = max(1, int((seconds + 59) // 60))
    return ngettext(
        "Trop de codes ont été envoyés. Réessayez dans %(num)d minute.",
        "Trop de codes ont été envoyés. Réessayez dans %(num)d minutes.",
        minutes,
    )


def delivery_failed_text() -> str:
    """Mail or SMS could not be sent; nothing was counted."""
    return _(
        "Le message n'a pas pu être envoyé pour le moment. Réessayez dans quelques minutes ; "
        "si le problème persiste, contactez le support."
    )


def channel_label(channel: str, contact: str | None) -> str:
    """A channel as offered in a choice, with its masked destination."""
    if channel == "email":
        return _("Par email à %(contact)s", contact=contact) if contact else _("Par email")
    if channel == "sms":
        return _("Par SMS au %(contact)s", contact=contact) if contact else _("Par SMS")
    return _("En répondant à ma question de sécurité")


def answer_problem_text(code: str) -> str:
    """Why a security answer cannot be registered."""
    texts = {
        "unknown_question": _("Choisissez une question dans la liste, ou rédigez-en une."),
        "same_question": _("Choisissez des questions différentes."),
        "mismatch": _("Les deux réponses ne sont pas identiques."),
        "too_short": _("La réponse doit comporter au moins 3 caractères."),
        "in_question": _("La réponse ne doit pas reprendre le texte de la question."),
        "is_login": _("La réponse ne doit pas contenir votre identifiant."),
        "same_answer": _("Donnez une réponse différente à chaque question."),
    }
    return texts.get(code, _("Cette réponse ne peut pas être enregistrée."))


def mismatch_text() -> str:
    """The new password and its confirmation differ."""
    return _("Les deux mots de passe ne sont pas identiques.")


def snooze_period(days: int) -> str:
    """How long the mobile reminder stays off: in months when round (« pour une durée de
    6 mois », as the DGFiP portal says), else in days."""
    months = round(days / 30.5)
    if months >= 1 and abs(days - months * 30.5) <= 3:
        return ngettext("pour une durée de %(num)d mois", "pour une durée de %(num)d mois", months)
    return ngettext("pendant %(num)d jour", "pendant %(num)d jours", days)


def snooze_text(days: int) -> str:
    """The confirmation that the mobile reminder is off."""
    return _("C'est noté : ce rappel ne s'affichera plus %(period)s.", period=snooze_period(days))
