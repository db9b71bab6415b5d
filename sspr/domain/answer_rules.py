"""What is wrong with the security answers typed at enrolment, every problem at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sspr.domain.answers import normalize_answer
from sspr.domain.ports import UserEntry
from sspr.domain.settings import DomainSettings, Profile

MIN_ANSWER = 3


@dataclass(frozen=True)
class NewAnswer:
    """One question and its answer, as typed on the enrolment form."""

    question_id: str
    answer: str
    confirmation: str
    custom_text: str = ""


def answer_problems(
    settings: DomainSettings,
    profile: Profile,
    entry: UserEntry,
    answers: Sequence[NewAnswer],
    lang: str,
) -> list[tuple[int, str]]:
    """(index, problem code) for each problem of each answer: the user fixes them in one go."""
    problems: list[tuple[int, str]] = []
    seen_answers: set[str] = set()
    seen_questions: set[str] = set()
    for index, new in enumerate(answers):
        text = _question_text(settings, profile, new, lang)
        codes = _problems_of(entry, new, text, seen_answers, seen_questions)
        problems.extend((index, code) for code in codes)
        seen_answers.add(normalize_answer(new.answer))
        seen_questions.add(normalize_answer(text) if text else new.question_id)
    return problems


def _question_text(settings: DomainSettings, profile: Profile, new: NewAnswer, lang: str) -> str:
    if new.question_id == "custom":
        return new.custom_text.strip() if profile.custom_questions else ""
    question = settings.question(new.question_id)
    return question.text.get(lang) if question else ""


def _problems_of(
    entry: UserEntry, new: NewAnswer, text: str, answers: set[str], questions: set[str]
) -> list[str]:
    """Every problem of one answer."""
    normalized = normalize_answer(new.answer)
    question_words = set(normalize_answer(text).replace("?", " ").split())
    checks = [
        ("unknown_question", len(text) < 5),
        ("same_question", normalize_answer(text) in questions),
        ("mismatch", normalized != normalize_answer(new.confirmation)),
        ("too_short", len(normalized) < MIN_ANSWER),
        ("in_question", bool(normalized) and set(normalized.split()) <= question_words),
        ("is_login", bool(entry.login) and normalize_answer(entry.login) in normalized),
        ("same_answer", normalized in answers),
    ]
    return [code for code, failed in checks if failed]
