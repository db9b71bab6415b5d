"""The web layer's one handling of domain errors: form messages, blocks, lost flows, outages.

Views let domain errors rise. `handle_form_errors` turns a refusal into a message on the form
(in the manner of noggin's helper of the same name); what is not a refusal reaches the
blueprint's handlers (`Blocked` → the block page, `FlowGone` → start again) or the
application's (`Unavailable` → 503).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Blueprint, Flask, current_app, render_template, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from sspr.domain.errors import (
    AccountUnusable,
    Blocked,
    CodeExpired,
    CodeInvalid,
    CodeMalformed,
    DeliveryFailed,
    DirectoryRefused,
    DirectoryUnavailable,
    FlowGone,
    PasswordMismatch,
    PasswordRefused,
    ResendTooSoon,
    SourceLimited,
    SsprError,
    StoreUnavailable,
    TooManySends,
    WrongAnswer,
)
from sspr.web.messages import (
    code_expired_text,
    code_invalid_text,
    code_shape_text,
    delivery_failed_text,
    mismatch_text,
    refusal_text,
    resend_text,
    sends_text,
    source_wait_text,
    wait_text,
    wrong_answer_text,
)


class FormError(Exception):
    """Messages to show on fields of a form (on the whole form when the field is None)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.errors: list[tuple[str | None, str]] = [(field, message)]

    @classmethod
    def several(cls, errors: list[tuple[str | None, str]]) -> FormError:
        """One error carrying a message for each of several fields."""
        error = cls(*errors[0])
        error.errors = list(errors)
        return error

    def populate_form(self, form: FlaskForm) -> None:
        """Attach each message to its field, so the template shows it in place."""
        for field, message in self.errors:
            target = form._fields.get(field) if field else None
            if target is None:
                form.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]


Describe = Callable[[SsprError], FormError | None]


def form_error(problem: SsprError) -> FormError | None:
    """The usual message of a refusal, on its usual field; None for what is no refusal."""
    if isinstance(problem, WrongAnswer):
        return FormError(None, wrong_answer_text(problem.attempts_left))
    if isinstance(problem, CodeInvalid):
        return FormError("code", code_invalid_text(problem.attempts_left))
    if isinstance(problem, CodeMalformed):
        return FormError("code", code_shape_text(problem))
    if isinstance(problem, CodeExpired):
        return FormError("code", code_expired_text(problem.reason))
    if isinstance(problem, PasswordMismatch):
        return FormError("confirmation", mismatch_text())
    if isinstance(problem, PasswordRefused):
        return FormError("password", refusal_text(problem.reason))
    if isinstance(problem, ResendTooSoon):
        return FormError(None, resend_text(problem.retry_after))
    if isinstance(problem, TooManySends):
        return FormError(None, sends_text(problem.retry_after))
    if isinstance(problem, DeliveryFailed):
        return FormError(None, delivery_failed_text())
    return None


def message_of(problem: SsprError) -> str:
    """The usual message of a refusal, for a page that shows it elsewhere than on a form."""
    described = form_error(problem)
    if described is None:
        raise problem
    return described.errors[0][1]


@contextmanager
def handle_form_errors(form: FlaskForm, describe: Describe = form_error) -> Iterator[None]:
    """Show a FormError raised in the block, or a domain refusal `describe` knows, on `form`.

    Anything else goes on to the error handlers.
    """
    try:
        yield
    except FormError as error:
        error.populate_form(form)
    except SsprError as problem:
        described = describe(problem)
        if described is None:
            raise
        described.populate_form(form)


# -- blueprint handlers ----------------------------------------------------------------------


def blocked_page(blocked: Blocked) -> tuple[str, int]:
    """The temporary block, with the time left and what is blocked: an account, or an address.

    The flow, if any, is over.
    """
    session.pop("flow", None)
    if isinstance(blocked, SourceLimited):
        message = source_wait_text(blocked.retry_after)
        return render_template("blocked.html", message=message, kind="source"), 429
    message = wait_text(blocked.retry_after)
    return render_template("blocked.html", message=message, kind="account"), 429


def restart(problem: FlowGone | None = None) -> tuple[str, int]:
    """The page for a flow that is gone: start again."""
    session.pop("flow", None)
    return render_template("error.html", kind="expired"), 400


def handle_blocks(bp: Blueprint) -> None:
    """A block raised by any view of `bp` shows the block page."""
    bp.register_error_handler(Blocked, blocked_page)


def handle_lost_flows(bp: Blueprint) -> None:
    """An expired flow or a step out of order, in any view of `bp`, says to start again."""
    bp.register_error_handler(FlowGone, restart)


# -- application handlers --------------------------------------------------------------------


def setup_error_pages(app: Flask) -> None:
    """The pages for outages, refused forms, unknown pages and bugs."""
    app.register_error_handler(DirectoryUnavailable, _directory_unavailable)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(DirectoryRefused, _directory_refused)
    app.register_error_handler(AccountUnusable, _account_unusable)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(404, _page("not_found", 404))
    app.register_error_handler(405, _page("not_found", 404))
    app.register_error_handler(413, _page("bad_request", 400))
    app.register_error_handler(400, _page("bad_request", 400))
    app.register_error_handler(500, _page("server", 500))


def _directory_unavailable(error: DirectoryUnavailable) -> tuple[str, int]:
    current_app.logger.warning("directory unavailable: %s", error)
    return render_template("error.html", kind="unavailable"), 503


def _store_unavailable(error: StoreUnavailable) -> tuple[str, int]:
    current_app.logger.warning("store unavailable: %s", error)
    return render_template("error.html", kind="store"), 503


def _directory_refused(error: DirectoryRefused) -> tuple[str, int]:
    # Not an outage: an access right or the schema says no. The server's text is for admins.
    current_app.logger.error("directory refused %s: %s", error.operation, error.detail)
    return render_template("error.html", kind="server"), 500


def _account_unusable(error: AccountUnusable) -> tuple[str, int]:
    """After the proofs, a disabled or expired account: the honest end of the journey."""
    session.pop("flow", None)
    return render_template("error.html", kind=f"account_{error.why}"), 403


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return render_template("error.html", kind="csrf"), 400


def _page(kind: str, status: int) -> Callable[[Exception], tuple[str, int]]:
    def page(error: Exception) -> tuple[str, int]:
        return render_template("error.html", kind=kind), status

    return page
