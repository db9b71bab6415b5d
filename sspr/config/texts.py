"""The admin's wording of the journey's texts (`texts:`), checked against sspr/texts.py."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from sspr.config.base import Strict
from sspr.texts import override_problem


class TextOverride(Strict):
    """An admin's wording for one text of the journey, in either language or both."""

    fr: str | None = Field(default=None, min_length=1)
    """The French wording; left out, French readers keep the shipped text."""
    en: str | None = Field(default=None, min_length=1)
    """The English wording; left out, English readers keep the shipped text."""

    @model_validator(mode="after")
    def _one_language(self) -> TextOverride:
        if self.fr is None and self.en is None:
            raise ValueError("give the text in fr, en or both")
        return self


def _known_texts(texts: dict[str, TextOverride]) -> dict[str, TextOverride]:
    """Every id exists and keeps to its placeholders (sspr/texts.py, docs/texts.md)."""
    problems = [
        problem
        for message_id, override in texts.items()
        for text in (override.fr, override.en)
        if text is not None and (problem := override_problem(message_id, text))
    ]
    if problems:
        raise ValueError("; ".join(dict.fromkeys(problems)))
    return texts


Texts = Annotated[dict[str, TextOverride], AfterValidator(_known_texts)]
"""The journey's texts replaced by id (docs/texts.md lists them)."""
