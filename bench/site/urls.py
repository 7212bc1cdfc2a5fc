"""The application's URLs plus `POST /bench/insert/<organization id>/`: a bare Django view that
inserts one row, the yardstick of the response-submit benchmark."""

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.models import ActivityLog
from cxplatform.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


@csrf_exempt
@require_POST
def insert_one_row(request, organization_id: int):
    """Parse the JSON body and insert one row with the ORM (autocommit): no authentication,
    no tenant, no validation, no serializer."""
    data = json.loads(request.body)
    row = ActivityLog.all_objects.create(
        organization_id=organization_id,
        actor_label="bench",
        action="bench.insert",
        data=data,
    )
    return JsonResponse({"id": row.public_id}, status=201)


urlpatterns = [path("bench/insert/<int:organization_id>/", insert_one_row), *urlpatterns]
