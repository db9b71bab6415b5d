"""Templates' url_for: the URLs that take no value (a page, a static file) built once."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

# Built URLs kept, at most: a key is a fixed endpoint (or a static file named in a template)
# and a script root, which a server in front sets; past this, URLs are built as before.
KEPT_AT_MOST = 512


def install(app: Flask) -> None:
    """Templates' url_for keeps the URLs of endpoints called without values."""
    # A page's stylesheets, script and fixed links cost ~5 µs each to build in a template
    # (werkzeug's rule builder), a page has about five, and they only change with the script
    # root the app is served under. Anything else (values, an anchor, a blueprint-relative
    # endpoint, outside a request, URL defaults or server-name matching configured) goes to
    # Flask's url_for.
    build = app.url_for
    kept: dict[tuple[str, str | None, str], str] = {}

    def url_for(endpoint: str, /, **values: Any) -> str:
        filename = values.get("filename") if endpoint == "static" and len(values) == 1 else None
        if (values and filename is None) or not _fixed(app, endpoint):
            return build(endpoint, **values)
        try:
            script_root = request._get_current_object().script_root
        except RuntimeError:  # outside a request: external URLs, from the configuration
            return build(endpoint, **values)
        key = (endpoint, filename, script_root)
        url = kept.get(key)
        if url is None:
            url = build(endpoint, **values)
            if len(kept) < KEPT_AT_MOST:
                kept[key] = url
        return url

    app.jinja_env.globals["url_for"] = url_for


def _fixed(app: Flask, endpoint: str) -> bool:
    """Whether the endpoint's URL depends on the script root only (as sspr configures Flask)."""
    # SERVER_NAME and host matching make URLs depend on the request's host; URL defaults
    # could add any value.
    return not (
        endpoint.startswith(".")
        or app.url_default_functions
        or app.config["SERVER_NAME"]
        or app.url_map.host_matching
    )
