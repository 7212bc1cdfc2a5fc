"""The API's JSON parser: DRF's, refusing bodies that would otherwise end in a 500 later on.

Every endpoint takes a JSON object. Nesting deeper than MAX_DEPTH is refused (deeper still,
Python's own recursion limit fails while decoding or saving), and so is a NUL or a lone surrogate
anywhere in the document, as a field error at the value's path (`answers.1.value`), because the
database cannot store either. Both walks run only when the raw text makes them possible (enough
brackets; a `\\u0000` or `\\uD800`-`\\uDFFF` escape, the only way JSON can carry these characters),
so a typical body costs nothing beyond the decoding.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.utils import json

from core.text import unstorable

# Our documents nest a handful of levels (the portable survey format about eight).
MAX_DEPTH = 32
SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _too_deep(data) -> bool:
    level = [data]
    for _depth in range(MAX_DEPTH):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def _unstorable_string(data) -> tuple[str, str] | None:
    """(path, message) of the first key or string the database cannot store."""
    pending = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if reason := unstorable(value):
                return path or "non_field_errors", reason
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            item_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (reason := unstorable(key)):
                return item_path, reason
            if isinstance(item, str | dict | list):
                pending.append((item_path, item))
    return None


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        # Django applies DATA_UPLOAD_MAX_MEMORY_SIZE to forms and request.body, not to the stream
        # DRF reads JSON from; the same limit holds here.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        try:
            text = raw.decode(encoding)
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        if not isinstance(data, dict):
            raise ParseError(_("Send a JSON object."))
        if text.count("{") + text.count("[") > MAX_DEPTH and _too_deep(data):
            raise ParseError(_("The JSON is nested too deeply."))
        if SUSPECT_ESCAPE.search(text) and (problem := _unstorable_string(data)):
            path, reason = problem
            raise ValidationError({path: [reason]})
        return data
