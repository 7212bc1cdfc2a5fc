from django.urls import path

from surveys import views

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
