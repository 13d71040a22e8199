from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "API"
    verbose_name = "Text to speech"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, schema, signals  # noqa: F401  (start-up checks; OpenAPI extensions; file clean-up)
