"""Every write of the surveys app (a package: building and responses are separate sub-domains).

Import from here: `from surveys.services import survey_publish, response_submit`.
"""

from surveys.services.building import (
    question_add,
    question_move,
    question_remove,
    question_update,
    survey_close,
    survey_create,
    survey_create_from_template,
    survey_export,
    survey_import,
    survey_new_draft,
    survey_publish,
    survey_reopen,
    survey_update,
    survey_validate,
    version_update_texts,
)
from surveys.services.responses import (
    personal_link_create,
    personal_link_save_partial,
    response_prepare,
    response_submit,
    responses_save,
    survey_response_counts_refresh,
)

__all__ = [
    "personal_link_create",
    "personal_link_save_partial",
    "question_add",
    "question_move",
    "question_remove",
    "question_update",
    "response_prepare",
    "response_submit",
    "responses_save",
    "survey_close",
    "survey_create",
    "survey_create_from_template",
    "survey_export",
    "survey_import",
    "survey_new_draft",
    "survey_publish",
    "survey_reopen",
    "survey_response_counts_refresh",
    "survey_update",
    "survey_validate",
    "version_update_texts",
]
