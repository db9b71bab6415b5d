"""The flow's own logic: which channel a step leaves to the user."""

from __future__ import annotations

from sspr.domain.flow import Flow


def flow(steps: tuple[tuple[str, ...], ...], available: tuple[str, ...], done: int = 0) -> Flow:
    return Flow(id="f", profile="p", subject="s", steps=steps, available=available, done=done)


def test_a_step_with_one_usable_channel_chooses_it_by_itself() -> None:
    assert flow((("email", "sms"),), ("email",)).with_sole_channel().channel == "email"
    assert (
        flow((("question",), ("sms",)), ("question", "sms"), done=1).with_sole_channel().channel
        == "sms"
    )


def test_a_choice_or_a_proven_flow_is_left_as_it_is() -> None:
    choice = flow((("email", "sms"),), ("email", "sms"))
    assert choice.with_sole_channel() is choice
    proven = flow((("email",),), ("email",), done=1)
    assert proven.with_sole_channel() is proven
