"""HTTP hardening: security headers on every response, and proxy trust only when configured."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from sspr.config import Settings

# Year-long HSTS: sspr is only ever meant to be served over https in production.
HSTS = "max-age=31536000; includeSubDomains"


def install(app: Flask, settings: Settings) -> None:
    """Add the headers to every response; trust X-Forwarded-* only from configured hops."""
    headers_for_all = [
        ("Content-Security-Policy", content_security_policy(settings)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    with_hsts = [*headers_for_all, ("Strict-Transport-Security", HSTS)]
    https = settings.public_url.scheme == "https"

    def add_headers(response: Response) -> Response:
        # A header a view set wins (the link page's Referrer-Policy): only missing ones are
        # added, in one pass over the response's headers rather than one per header.
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        wanted = with_hsts if https or request.is_secure else headers_for_all
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        return response

    app.after_request(add_headers)
    hops = settings.proxy.trusted_hops
    if hops:
        # Only the last `hops` proxies are believed: a client cannot forge its own address.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )


def content_security_policy(settings: Settings) -> str:
    """No inline script or style, nothing from elsewhere but the configured logo."""
    images = ["'self'", "data:"]
    logo = settings.branding.logo_url
    if logo and urlsplit(logo).scheme in ("http", "https"):
        parts = urlsplit(logo)
        images.append(f"{parts.scheme}://{parts.netloc}")
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "font-src": "'self'",
        "connect-src": "'self'",
        "worker-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())
