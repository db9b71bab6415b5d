"""The web tests' helpers live in tests/helpers.py; fixtures in tests/conftest.py."""

from tests.helpers import build_app, csrf_token, https_client, submit

__all__ = ["build_app", "csrf_token", "https_client", "submit"]
