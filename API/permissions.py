from django.conf import settings
from rest_framework.permissions import BasePermission


class CanSynthesize(BasePermission):
    message = "Authentication is required to synthesize speech."

    def has_permission(self, request, view) -> bool:
        return settings.TTS_ANONYMOUS_SYNTHESIS or bool(request.user and request.user.is_authenticated)
