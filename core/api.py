"""API plumbing shared by every app: the error format and pagination."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response

from core.exceptions import ApplicationError


def _flatten(detail) -> dict | list | str:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
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
            "extra": {"fields": _flatten(fields)},
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=headers)

    codes = exc.get_codes()
    body = {
        "message": str(exc.detail) if not isinstance(exc.detail, dict | list) else "Error.",
        "code": codes if isinstance(codes, str) else "error",
        "extra": {},
    }
    return Response(body, status=exc.status_code, headers=headers)


def not_found(request, exception=None):
    """The site's 404 (`handler404`): API paths that match no route answer in the error format too."""
    if request.path.startswith("/api/"):
        body = {"message": "Not found.", "code": "not_found", "extra": {}}
        return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 500
