"""One JSON error shape for everything under /api/: {"error": {"status", "code", "message", "details"}}."""
from __future__ import annotations

import errno
import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tts_core import ModelNotReadyError, SynthesisOptionError
from tts_core.checkpoints import CheckpointError
from tts_core.text import TextError

log = logging.getLogger(__name__)


class StorageError(Exception):
    """The audio file could not be written (disk full, read-only or missing MEDIA_ROOT); nothing was kept."""

    def __init__(self, os_error: OSError):
        super().__init__(str(os_error))
        self.full = os_error.errno in (errno.ENOSPC, errno.EDQUOT)


class QueueUnavailable(Exception):
    """The job queue's broker (Redis, RabbitMQ) cannot be reached; nothing was queued or kept."""


class JobFailed(Exception):
    """A job that a request waited for ended failed (API.jobs.JobError: code, message, HTTP status)."""

    def __init__(self, error):
        super().__init__(error.message)
        self.error = error


class AudioLinkExpired(Exception):
    """A signed audio link that was genuine has expired."""


def error_body(status_code: int, code: str, message: str, details=None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, TextError):
        return Response(error_body(400, "invalid_text", str(exc), {"text": [str(exc)]}), status=400)
    if isinstance(exc, SynthesisOptionError):
        return Response(error_body(400, "invalid_option", str(exc)), status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(413, "too_large", "request body too large"), status=413)
    # Server-side failures: a generic public message (no paths, no exception text); the log has the detail.
    if isinstance(exc, (ModelNotReadyError, CheckpointError)):
        log.error("synthesis unavailable: %s", exc)
        return Response(error_body(503, "not_ready", "speech synthesis is unavailable right now; try again later"),
                        status=503, headers={"Retry-After": "30"})
    if isinstance(exc, (OperationalError, InterfaceError)):
        log.error("database unavailable: %s", exc)
        return Response(error_body(503, "database_unavailable", "the database is unavailable; try again shortly"),
                        status=503, headers={"Retry-After": "5"})
    if isinstance(exc, StorageError):
        log.error("audio storage failed: %s", exc)
        if exc.full:
            return Response(error_body(507, "storage_full", "the server has no space left to store audio"),
                            status=507)
        return Response(error_body(503, "storage_unavailable", "the audio could not be stored; try again later"),
                        status=503, headers={"Retry-After": "30"})
    if isinstance(exc, QueueUnavailable):
        log.error("job queue unavailable: %s", exc)
        return Response(error_body(503, "queue_unavailable", "the job queue is unavailable; try again shortly"),
                        status=503, headers={"Retry-After": "5"})
    if isinstance(exc, JobFailed):
        error = exc.error
        headers = {"Retry-After": "30"} if error.http_status == 503 else {}
        return Response(error_body(error.http_status, error.code, error.message), status=error.http_status,
                        headers=headers)
    if isinstance(exc, AudioLinkExpired):
        return Response(error_body(403, "link_expired", "this audio link has expired; read the record again for a "
                                                        "fresh one"), status=403)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's 500 handler answers (and logs) it
    detail = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        message = _first_message(detail)
        response.data = error_body(response.status_code, "invalid", message, detail)
    else:
        message = detail.get("detail", str(detail)) if isinstance(detail, dict) else str(detail)
        if isinstance(exc, exceptions.APIException) and hasattr(exc, "get_codes"):
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else code
        response.data = error_body(response.status_code, code, str(message))
    return response


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, "server_error", "Internal server error."), status=500)
    from django.views.defaults import server_error as default

    return default(request)
