"""Text PostgreSQL cannot store: NUL characters and unpaired surrogates.

A NUL in a text column or JSON value, or a lone surrogate (which has no UTF-8 encoding), makes the
database driver fail, so such input must be refused where it enters: the request middleware for
paths and query strings, the API's JSON parser, and answer cleaning for forms and imports.
"""

from django.utils.translation import gettext as _


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, as a message for the person who sent it; None if it can."""
    if "\x00" in text:
        return _("Null characters are not allowed.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code_point = ord(text[error.start])
        return _("Surrogate characters are not allowed: U+{code_point:X}.").format(
            code_point=code_point
        )
    return None
