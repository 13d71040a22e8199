"""``Authorization: Bearer <token>``: the service's API tokens as OpenAI clients send them."""
from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token, sent as ``Bearer``. OpenAI clients must send some key even to a server that needs none
    (LiveKit's examples use "not-needed"): where anonymous synthesis is allowed, a key that is no token of ours is
    taken as no key at all (anonymous: no more access than sending none); elsewhere it is a 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            if settings.TTS["ANONYMOUS_SYNTHESIS"]:
                return None
            raise
