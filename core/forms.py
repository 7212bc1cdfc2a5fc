from django import forms

from core.exceptions import ApplicationError


def add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form, on its field when the error names one."""
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, error.message)
