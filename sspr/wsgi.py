"""gunicorn entry point: `gunicorn 'sspr.wsgi:app'`, config path in SSPR_CONFIG."""

from sspr.web.app import create_app_from_env

app = create_app_from_env()
