"""The reset flow as the browser holds it: its token in the session cookie, and its pages."""

from __future__ import annotations

from flask import redirect, session, url_for
from werkzeug.wrappers import Response

from sspr.domain.channels import Channel
from sspr.domain.errors import FlowExpired
from sspr.domain.flow import Flow
from sspr.domain.settings import Profile
from sspr.web.context import Page, fresh_session, services
from sspr.web.errors import restart


def place_flow(flow: Flow, *, fresh: bool = False) -> None:
    """Put the flow's token in the cookie; a fresh flow starts from a clean session."""
    if fresh:
        fresh_session()
    session["flow"] = flow.id


def current_flow() -> Flow | None:
    """The session's flow, if it is still alive."""
    try:
        return services().reset.load(session.get("flow", ""))
    except FlowExpired:
        return None


def next_url(flow: Flow) -> str:
    """Where a flow goes next: the current step's page, or the end of the journey."""
    if flow.proven:
        profile = services().rules.profile(flow.profile)
        if profile is not None and profile.temporary_password:
            return url_for("reset.temporary")
        return url_for("reset.new_password")
    if not flow.channel:
        return url_for("proofs.choose")
    if flow.channel == Channel.QUESTION:
        return url_for("proofs.question")
    return url_for("proofs.code")


def finish(profile: Profile, *, temporary: bool) -> Response:
    """End the flow in the session and show the success page."""
    fresh_session()
    session["done"] = profile.id
    session["temporary"] = temporary
    return redirect(url_for("reset.done"))


def flow_on(page: str) -> Flow | Page:
    """The session's flow if it is on this page's step, else where it should be."""
    flow = current_flow()
    if flow is None:
        return restart()
    if next_url(flow) != url_for(page):
        return redirect(next_url(flow))
    return flow
