"""One JSON error shape for everything under /api/: {"error": {"status", "code", "message", "details"}}; under /v1/
the same errors in OpenAI's shape (API.v1.errors)."""
from __future__ import annotations

import dataclasses
import errno
import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tts_core.errors import CheckpointError, ModelNotReadyError, SynthesisOptionError
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


class JobTimeout(Exception):
    """A job ran past TTS_JOB_TIME_LIMIT."""


class ModelBusy(Exception):
    """The process's model thread did not get to a synchronous request within TTS_SYNC_TIMEOUT (it was not run)."""


# ------------------------------------------------------------------ the failures of a synthesis, for every caller
# One vocabulary for a request's error response and a job's stored error: code, public message, HTTP status.
@dataclasses.dataclass(frozen=True)
class JobError:
    """Why a synthesis failed, as the user may see it, and whether trying again later can help."""

    code: str
    message: str
    transient: bool = False

    @property
    def http_status(self) -> int:
        return ERROR_HTTP_STATUS.get(self.code, 500)


ERROR_HTTP_STATUS = {"invalid_text": 400, "invalid_option": 400, "not_ready": 503, "storage_full": 507,
                     "storage_unavailable": 503, "database_unavailable": 503, "queue_unavailable": 503,
                     "out_of_memory": 503, "interrupted": 503, "busy": 503, "timeout": 504, "cancelled": 409,
                     "internal_error": 500}
RETRY_AFTER = {"database_unavailable": "5", "queue_unavailable": "5"}  # seconds; other 503s: 30
SERVICE_FAILURES = (TextError, SynthesisOptionError, ModelNotReadyError, CheckpointError, StorageError,
                    OperationalError, InterfaceError, QueueUnavailable, ModelBusy)


def classify(exc: BaseException) -> JobError:
    """A failure as the user sees it. Transient: worth a retry (models loading, disk or database trouble)."""
    if isinstance(exc, TextError):
        return JobError("invalid_text", str(exc))
    if isinstance(exc, SynthesisOptionError):
        return JobError("invalid_option", str(exc))
    if isinstance(exc, (ModelNotReadyError, CheckpointError)):
        return JobError("not_ready", "speech synthesis is unavailable right now", transient=True)
    if isinstance(exc, StorageError):
        if exc.full:
            return JobError("storage_full", "the server has no space left to store audio", transient=True)
        return JobError("storage_unavailable", "the audio could not be stored", transient=True)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return JobError("database_unavailable", "the database is unavailable", transient=True)
    if isinstance(exc, QueueUnavailable):
        return JobError("queue_unavailable", "the job queue is unavailable", transient=True)
    if isinstance(exc, ModelBusy):
        return JobError("busy", "the server is busy with other syntheses; try again", transient=True)
    if isinstance(exc, (JobTimeout, SoftTimeLimitExceeded)):
        return JobError("timeout", f"the synthesis took longer than {settings.TTS['JOB_TIME_LIMIT']} s")
    if type(exc).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError, without importing torch here
        return JobError("out_of_memory", "the accelerator ran out of memory", transient=True)
    return JobError("internal_error", "the synthesis failed unexpectedly; the server log has the details")


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


def error_response(error: "JobError", details=None) -> Response:
    """A service failure in the API's shape, with Retry-After where waiting helps."""
    status_code = error.http_status
    headers = {"Retry-After": RETRY_AFTER.get(error.code, "30")} if status_code == 503 else {}
    return Response(error_body(status_code, error.code, error.message, details), status=status_code, headers=headers)


def api_exception_handler(exc, context):
    """DRF's exception handler: the API's one error shape; under /v1/, OpenAI's (API.v1.errors)."""
    response = _api_exception_response(exc, context)
    request = context.get("request")
    if response is not None and request is not None and request.path.startswith("/v1/"):
        from .v1.errors import from_api_error

        response.data = from_api_error(response.data)
    return response


def _api_exception_response(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(413, "too_large", "request body too large"), status=413)
    if isinstance(exc, SERVICE_FAILURES):
        error = classify(exc)
        if error.http_status >= 500:  # the public message is generic; the log has the detail
            log.error("%s: %s: %s", error.code, type(exc).__name__, exc)
        return error_response(error, {"text": [error.message]} if error.code == "invalid_text" else None)
    if isinstance(exc, JobFailed):
        return error_response(exc.error)
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
    if request.path.startswith("/v1/"):
        from .v1.errors import openai_error

        return JsonResponse(openai_error(404, "not_found", f"no such endpoint: {request.path[:200]}"), status=404)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/v1/"):
        from .v1.errors import openai_error

        return JsonResponse(openai_error(500, "server_error", "Internal server error."), status=500)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, "server_error", "Internal server error."), status=500)
    from django.views.defaults import server_error as default

    return default(request)
