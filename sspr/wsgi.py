"""The WSGI entry point `sspr.wsgi:app` (`sspr serve` runs it), config path in SSPR_CONFIG."""

from sspr.web.app import create_app_from_env

app = create_app_from_env()
