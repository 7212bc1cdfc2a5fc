from django.urls import path

from webhooks import views

app_name = "webhooks"

HOOKS = "o/<slug:org_slug>/webhooks/"
ENDPOINT = HOOKS + "<str:public_id>/"

# Fixed paths are listed before the `<public_id>` patterns that would match them too.
urlpatterns = [
    path(HOOKS, views.EndpointListView.as_view(), name="list"),
    path(HOOKS + "new/", views.EndpointCreateView.as_view(), name="create"),
    path(HOOKS + "events-feed/", views.EventFeedView.as_view(), name="event_feed"),
    path(ENDPOINT, views.EndpointDetailView.as_view(), name="detail"),
    path(ENDPOINT + "edit/", views.EndpointEditView.as_view(), name="edit"),
    path(ENDPOINT + "rotate-secret/", views.EndpointRotateSecretView.as_view(), name="rotate"),
    path(ENDPOINT + "active/", views.EndpointActiveView.as_view(), name="active"),
    path(ENDPOINT + "replay/", views.EndpointReplayView.as_view(), name="replay"),
    path(ENDPOINT + "delete/", views.EndpointDeleteView.as_view(), name="delete"),
    path(
        HOOKS + "<str:endpoint_id>/deliveries/<str:public_id>/replay/",
        views.DeliveryReplayView.as_view(),
        name="delivery_replay",
    ),
]
