"""Request middleware of our own."""

from django.core.exceptions import BadRequest

from core.text import unstorable


class UnstorableInput(BadRequest):
    """A path or query string holds text the database cannot store; its message says why."""


class RefuseUnstorableInputMiddleware:
    """Answers 400 to a path or query string holding a NUL or a lone surrogate.

    Views look such values up in the database, where they fail with a 500. Form and JSON bodies
    are checked where they are read (forms, `core.parsers.JSONParser`), so a form can show the
    error next to its field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        texts = [request.path]
        for key, values in request.GET.lists():
            texts.append(key)
            texts.extend(values)
        for text in texts:
            if reason := unstorable(text):
                raise UnstorableInput(reason)
        return self.get_response(request)
