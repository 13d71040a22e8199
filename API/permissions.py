"""DRF permission classes: the door's view of the access rules that live in selectors."""
from rest_framework.permissions import BasePermission

from .selectors import tts_can_create


class CanSynthesize(BasePermission):
    message = "Authentication is required to synthesize speech."

    def has_permission(self, request, view) -> bool:
        return tts_can_create(user=request.user)
