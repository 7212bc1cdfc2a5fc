"""The survey builder pages (a package: surveys, questions, preview) for CX managers: the list, new survey (from a template or blank),
import, the builder (settings, texts, questions, validation, publish, close/reopen, versions),
the respondent preview and the JSON export.

Every write goes through surveys.services; viewers may read every page and get 403 on every
POST (policies.SURVEYS). The builder edits the survey's draft version: when there is none (the
survey is published) the page shows the current version read-only with a button that makes the
draft of the next version (`survey_new_draft`). Everything works as plain forms; HTMX swaps the
questions section (and, out of band, the publish panel) for add, edit, move. Fragments carrying
form errors answer 200, because htmx 2 does not swap 4xx answers; without JavaScript they are 400.
"""

from surveys.builder.preview import SurveyPreviewFrameView, SurveyPreviewView
from surveys.builder.questions import (
    QuestionAddView,
    QuestionEditView,
    QuestionMoveView,
    QuestionRemoveView,
)
from surveys.builder.surveys import (
    BuilderView,
    SurveyCloseView,
    SurveyCreateView,
    SurveyExportView,
    SurveyImportView,
    SurveyListView,
    SurveyNewDraftView,
    SurveyPublishView,
    SurveyReopenView,
    SurveySettingsView,
    VersionTextsView,
)

__all__ = [
    "BuilderView",
    "QuestionAddView",
    "QuestionEditView",
    "QuestionMoveView",
    "QuestionRemoveView",
    "SurveyCloseView",
    "SurveyCreateView",
    "SurveyExportView",
    "SurveyImportView",
    "SurveyListView",
    "SurveyNewDraftView",
    "SurveyPreviewFrameView",
    "SurveyPreviewView",
    "SurveyPublishView",
    "SurveyReopenView",
    "SurveySettingsView",
    "VersionTextsView",
]
