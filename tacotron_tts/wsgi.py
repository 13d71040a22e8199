"""WSGI entry point for Gunicorn: ``gunicorn tacotron_tts.wsgi``."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tacotron_tts.settings")
application = get_wsgi_application()
