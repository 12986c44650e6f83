"""WSGI entry for the production server (gunicorn: pipelines/console/server.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipelines.console.settings")
application = get_wsgi_application()
