"""Request middleware of the API."""
from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from .exceptions import error_body


class BodySizeLimitMiddleware:
    """413 for /api/ requests whose declared body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads it
    (DRF's parsers read the stream directly and would not enforce Django's limit)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(error_body(413, "too_large",
                                               f"request body too large (limit {limit} bytes)"), status=413)
        return self.get_response(request)
