from django.urls import path

from tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("o/<slug:org_slug>/", views.OrganizationHomeView.as_view(), name="home"),
    path("o/<slug:org_slug>/settings/", views.OrganizationSettingsView.as_view(), name="settings"),
    path("o/<slug:org_slug>/activity/", views.ActivityLogView.as_view(), name="activity"),
]
