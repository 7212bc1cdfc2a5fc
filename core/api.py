"""API plumbing shared by every app: the error format (the site's error pages too), pagination."""

import sys

from django import db
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response

from core.exceptions import ApplicationError
from core.middleware import UnstorableInput


def flatten_errors(detail) -> dict | list | str:
    """DRF's error details as plain JSON (ErrorDetail strings become str)."""
    if isinstance(detail, dict):
        return {key: flatten_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [flatten_errors(item) for item in detail]
    return str(detail)


def exception_handler(exc, context) -> Response | None:
    """Every API error has the shape `{"message", "code", "extra"}`.

    Validation errors carry their field errors in `extra.fields`.
    """
    if isinstance(exc, ApplicationError):
        body = {"message": exc.message, "code": exc.code, "extra": exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {
            "message": "The request has invalid fields.",
            "code": "invalid",
            "extra": {"fields": flatten_errors(fields)},
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=headers)

    codes = exc.get_codes()
    body = {
        "message": str(exc.detail) if not isinstance(exc.detail, dict | list) else "Error.",
        "code": codes if isinstance(codes, str) else "error",
        "extra": {},
    }
    return Response(body, status=exc.status_code, headers=headers)


# The site's error pages (handler400/403/404/500 in cxplatform/urls.py): API paths answer in the
# error format, pages render templates/<status>.html in the visitor's language.


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _api_error(message: str, code: str, status_code: int) -> JsonResponse:
    return JsonResponse({"message": message, "code": code, "extra": {}}, status=status_code)


def bad_request(request, exception=None):
    """400, or 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django raises RequestDataTooBig)."""
    if isinstance(exception, RequestDataTooBig):
        message = _("The request is too large.")
        code, status_code = "too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    elif isinstance(exception, UnstorableInput):
        message, code, status_code = str(exception), "invalid", status.HTTP_400_BAD_REQUEST
    else:  # other refusals (a bad Host, too many fields...) are not explained to the sender
        message, code, status_code = _("Bad request."), "bad_request", status.HTTP_400_BAD_REQUEST
    if _is_api(request):
        return _api_error(message, code, status_code)
    return render(request, "400.html", {"message": message}, status=status_code)


def permission_denied(request, exception=None):
    if _is_api(request):
        message = _("You do not have permission to perform this action.")
        return _api_error(message, "permission_denied", status.HTTP_403_FORBIDDEN)
    return defaults.permission_denied(request, exception)


def not_found(request, exception=None):
    if _is_api(request):
        return _api_error("Not found.", "not_found", status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


# Seconds a client is asked to wait when the database cannot be reached (a restart, a failover).
DATABASE_RETRY_AFTER = 5


def server_error(request):
    """500, or 503 with Retry-After while the database cannot be reached: that is a moment's
    outage the client should retry, not a fault in the request. The pages render without a
    request: no context processor may touch the failing database."""
    if _database_unavailable(sys.exc_info()[1]):
        if _is_api(request):
            response = _api_error(
                _("The service is briefly unavailable. Please try again in a moment."),
                "service_unavailable",
                status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        else:
            page = loader.get_template("503.html").render()
            response = HttpResponse(page, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if _is_api(request):
        return _api_error(_("Server error."), "server_error", status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


def _database_unavailable(error: BaseException | None) -> bool:
    """A lost or refused database connection (Django wraps the driver's errors in these)."""
    return isinstance(error, db.OperationalError | db.InterfaceError)


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 500
