from django import forms

from core.exceptions import ApplicationError


def add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form, on its field when the error names one."""
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, error.message)


def add_service_errors(form: forms.Form, error: ApplicationError, suffix: str = "") -> None:
    """Every field error of a service's refusal on the form (`extra["fields"]`), else its one.
    `suffix` maps a service field to a form field (`subject` -> `subject_fi`)."""
    fields = error.extra.get("fields")
    if not fields:
        field = error.extra.get("field", "")
        if f"{field}{suffix}" in form.fields:
            form.add_error(f"{field}{suffix}", error.message)
        else:
            add_application_error(form, error)
        return
    for name, problems in fields.items():
        target = f"{name}{suffix}" if f"{name}{suffix}" in form.fields else None
        for problem in problems:
            form.add_error(target, problem)
