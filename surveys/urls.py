from csp.constants import SELF
from csp.decorators import csp_replace
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from surveys import builder, views
from surveys.builder import imports

app_name = "surveys"

urlpatterns = [
    path("s/<str:slug>/", views.AnonymousSurveyView.as_view(), name="respond_anonymous"),
    path(
        "s/<str:slug>/thanks/",
        views.AnonymousThanksView.as_view(),
        name="respond_anonymous_thanks",
    ),
    path("r/<str:token>/", views.PersonalSurveyView.as_view(), name="respond_personal"),
    path(
        "r/<str:token>/thanks/", views.PersonalThanksView.as_view(), name="respond_personal_thanks"
    ),
]

# The survey builder (CX managers): surveys.builder.
_ORG = "o/<slug:org_slug>/surveys/"
_SRV = _ORG + "<str:public_id>/"
_Q = _SRV + "questions/<str:question_id>/"
urlpatterns += [
    path(_ORG, builder.SurveyListView.as_view(), name="builder_list"),
    path(_ORG + "new/", builder.SurveyCreateView.as_view(), name="builder_create"),
    path(_ORG + "import/", builder.SurveyImportView.as_view(), name="builder_import"),
    path(_SRV, builder.BuilderView.as_view(), name="builder"),
    path(_SRV + "settings/", builder.SurveySettingsView.as_view(), name="builder_settings"),
    path(_SRV + "texts/", builder.VersionTextsView.as_view(), name="builder_texts"),
    path(_SRV + "draft/", builder.SurveyNewDraftView.as_view(), name="builder_draft"),
    path(_SRV + "publish/", builder.SurveyPublishView.as_view(), name="builder_publish"),
    path(_SRV + "close/", builder.SurveyCloseView.as_view(), name="builder_close"),
    path(_SRV + "reopen/", builder.SurveyReopenView.as_view(), name="builder_reopen"),
    path(_SRV + "export.json", builder.SurveyExportView.as_view(), name="builder_export"),
    path(_SRV + "preview/", builder.SurveyPreviewView.as_view(), name="builder_preview"),
    path(
        _SRV + "preview/frame/",
        csrf_exempt(
            csp_replace({"frame-ancestors": [SELF]})(builder.SurveyPreviewFrameView.as_view())
        ),
        name="builder_preview_frame",
    ),
    path(_SRV + "responses/import/", imports.ResponseImportView.as_view(), name="response_imports"),
    path(
        _SRV + "responses/import/<str:import_id>/",
        imports.ResponseImportDetailView.as_view(),
        name="response_import",
    ),
    path(
        _SRV + "responses/import/<str:import_id>/errors.csv",
        imports.ResponseImportErrorsView.as_view(),
        name="response_import_errors",
    ),
    path(_SRV + "questions/add/", builder.QuestionAddView.as_view(), name="question_add"),
    path(_Q + "edit/", builder.QuestionEditView.as_view(), name="question_edit"),
    path(_Q + "move/", builder.QuestionMoveView.as_view(), name="question_move"),
    path(_Q + "remove/", builder.QuestionRemoveView.as_view(), name="question_remove"),
]
