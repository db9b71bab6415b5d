"""The source of a request, and its per-area limits: the one place the web layer asks."""

from __future__ import annotations

from flask import Request, request

from sspr.domain.limits import Area
from sspr.domain.sources import Source
from sspr.web.context import services


def source_of(req: Request | None = None) -> Source:
    """Where this request comes from: its address, or its IPv6 network (configurable)."""
    return services().sources.of((req or request).remote_addr)


def limit(area: Area, profile: str | None = None) -> None:
    """Count this request in its source's bucket for `area`; raise SourceLimited past it."""
    services().source_limits.hit(area, source_of(), profile)
