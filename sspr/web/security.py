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
    csp = content_security_policy(settings)
    https = settings.public_url.scheme == "https"

    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https or request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
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
