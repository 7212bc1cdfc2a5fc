"""What the forms of the alerts pages share: service refusals as form errors, member selects."""

from django import forms

from core.exceptions import ApplicationError
from core.forms import add_application_error


def add_service_error(form: forms.Form, error: ApplicationError) -> None:
    """A service's refusal on the form: each message of `extra["fields"]` on its field (or
    above the form when the form has no such field); otherwise as `core.forms` does."""
    fields = error.extra.get("fields")
    if not isinstance(fields, dict) or not fields:
        add_application_error(form, error)
        return
    placed = False
    for name, messages in fields.items():
        target = name if name in form.fields else None
        placed |= target is not None
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            form.add_error(target, str(message))
    if not placed:
        form.add_error(None, error.message)


class MemberChoiceField(forms.ModelChoiceField):
    """A member by public id, shown by name and email."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "public_id")
        kwargs.setdefault("queryset", None)
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user) -> str:
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


def members_into(form: forms.Form, members, *names: str) -> None:
    for name in names:
        form.fields[name].queryset = members
