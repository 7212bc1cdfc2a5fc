from django.urls import path

from tenancy import views

app_name = "tenancy"

urlpatterns = [
    # reports.urls, included first, answers this path with the overview dashboard; the name
    # stays so every template's {% url 'tenancy:home' %} keeps pointing at it.
    path("o/<slug:org_slug>/", views.OrganizationHomeView.as_view(), name="home"),
    path("o/<slug:org_slug>/settings/", views.OrganizationSettingsView.as_view(), name="settings"),
    path("o/<slug:org_slug>/activity/", views.ActivityLogView.as_view(), name="activity"),
]
