"""The one error type of the domain; the API turns it into `{"message", "code", "extra"}`."""

from typing import Any


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, code: str = "invalid", extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    status_code = 404

    def __init__(self, message: str = "Not found.", code: str = "not_found", extra=None):
        super().__init__(message, code, extra)


class ConflictError(ApplicationError):
    status_code = 409
