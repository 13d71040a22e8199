# The Celery app is loaded with Django, so tasks are sent with the project's broker settings.
from .celery import app as celery_app

__all__ = ["celery_app"]
