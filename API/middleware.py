"""Request middleware of the API."""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import resolve

from .exceptions import error_body

# The paths a container's own health check probes (scripts/probe.py).
PROBE_PATHS = frozenset({"/api/health/", "/api/health/ready/"})


def _is_local_probe(meta) -> bool:
    """A request from this host itself that no proxy forwarded: the container's (or host's) own health check.
    Everything Nginx forwards carries X-Forwarded-For, so real traffic never matches."""
    if "HTTP_X_FORWARDED_FOR" in meta or "HTTP_X_REAL_IP" in meta or "HTTP_FORWARDED" in meta:
        return False
    try:
        return ipaddress.ip_address(meta.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _is_internal_scrape(meta) -> bool:
    """A request from a private or loopback address that no proxy forwarded: Prometheus inside the network (in
    compose it asks for api:8000, a host name DJANGO_ALLOWED_HOSTS need not list). Nginx's forwards carry
    X-Forwarded-For: the public never matches (and nginx refuses /metrics anyway)."""
    if "HTTP_X_FORWARDED_FOR" in meta or "HTTP_X_REAL_IP" in meta or "HTTP_FORWARDED" in meta:
        return False
    try:
        address = ipaddress.ip_address(meta.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


class MetricsEndpointMiddleware:
    """GET /metrics for Prometheus, answered before host validation and the HTTPS redirect (as the health probe
    is), and only to internal scrapers; anyone else gets 403."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != "/metrics":
            return self.get_response(request)
        if request.method not in ("GET", "HEAD") or not _is_internal_scrape(request.META):
            return JsonResponse(error_body(403, "forbidden", "metrics are not served here"), status=403)
        from prometheus_client import CONTENT_TYPE_LATEST

        from . import metrics

        return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


class LocalProbeMiddleware:
    """Answer the local health probe before host validation and the HTTPS redirect.

    Under production settings (a real DJANGO_ALLOWED_HOSTS, DJANGO_HTTPS=1) a probe of http://127.0.0.1:8000 would
    get 400 (host not allowed) or 301 (to https) and the container would never become healthy. Only probes from
    the loopback address without proxy headers skip those two checks; real traffic keeps both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path_info in PROBE_PATHS and _is_local_probe(request.META):
            match = resolve(request.path_info)
            response = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render"):  # a DRF Response returned from middleware is not rendered for us
                response.render()
            return response
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """413 for /api/ and /v1/ requests whose declared body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads it
    (DRF's parsers read the stream directly and would not enforce Django's limit)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path.startswith(("/api/", "/v1/")):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                message = f"request body too large (limit {limit} bytes)"
                if request.path.startswith("/v1/"):
                    from .v1.errors import openai_error

                    return JsonResponse(openai_error(413, "too_large", message), status=413)
                return JsonResponse(error_body(413, "too_large", message), status=413)
        return self.get_response(request)


class MetricsMiddleware:
    """Counts every answer by endpoint (the URL pattern's name, so uuids do not make new series), method and
    status (API.metrics)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        from . import metrics

        match = getattr(request, "resolver_match", None)
        endpoint = (match.view_name or match.route) if match is not None else "unmatched"
        metrics.REQUESTS.labels(endpoint, request.method if request.method in _METHODS else "other",
                                str(response.status_code)).inc()
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
