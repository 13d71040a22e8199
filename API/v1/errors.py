"""OpenAI's error shape for everything under /v1/: {"error": {"message", "type", "param", "code"}}, with the same
HTTP status codes as /api/ (the SDKs raise their exception types by status: BadRequestError, AuthenticationError,
PermissionDeniedError, NotFoundError, RateLimitError, InternalServerError, ...)."""
from __future__ import annotations

PREFIX = "/v1/"

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error",
          429: "rate_limit_error"}


def error_type(status: int) -> str:
    return _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error(status: int, code: str | None, message: str, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": error_type(status), "param": param, "code": code}}


def from_api_error(body: dict) -> dict:
    """The /api/ error body ({"error": {status, code, message, details}}) in OpenAI's shape; ``param`` is the first
    field a validation error names (our field names are OpenAI's)."""
    error = body["error"]
    details = error.get("details")
    param = next(iter(details), None) if isinstance(details, dict) else None
    if param == "non_field_errors":
        param = None
    message = error["message"]
    if param and message.startswith(f"{param}: "):
        message = message[len(param) + 2:]
    return openai_error(error["status"], error["code"], message, param)
