from core.exceptions import ApplicationError


class AnswerErrors(ApplicationError):
    """Some answers do not fit the survey version: `extra["fields"]` maps a question key to
    its messages (`hidden_fields`, `language`, `channel` and `submitted_at` may appear too)."""

    def __init__(self, fields: dict[str, list[str]], message: str = ""):
        super().__init__(
            message or "Some answers are not valid.",
            code="invalid_answers",
            extra={"fields": fields},
        )
        self.fields = fields
