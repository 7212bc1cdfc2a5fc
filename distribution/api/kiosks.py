"""DRF views of kiosk devices: the Kiosks page's list, registration, new address and removal.

A device's address holds its secret token: it is in the answer to create and to `new-address`
only, never stored readable, so those take no Idempotency-Key (a stored answer would be a second
copy of the secret).
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import ApplicationError
from core.scoping import no_rows
from distribution import selectors
from distribution.models import KioskDevice
from distribution.services import kiosk as kiosk_services
from surveys.models import Survey
from tenancy import policies
from tenancy.api import OrganizationViewSet

TAG = "Kiosk devices"


class KioskDeviceSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=100)
    survey = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=Survey.objects.none(),
        help_text="A published survey whose first question is a four-face smiley (srv_...).",
    )
    touchpoint = serializers.CharField(
        source="touchpoint.public_id", read_only=True, allow_null=True
    )
    location = serializers.CharField(max_length=100, required=False, allow_blank=True)
    min_interval_seconds = serializers.IntegerField(
        min_value=kiosk_services.INTERVAL_BOUNDS[0],
        max_value=kiosk_services.INTERVAL_BOUNDS[1],
        required=False,
        help_text="Answers closer together are flagged (hidden field flag=too_fast), not dropped.",
    )
    active = serializers.BooleanField(source="is_active", read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["survey"].queryset = Survey.objects.filter(organization=organization)


class KioskDeviceCreatedSerializer(KioskDeviceSerializer):
    url = serializers.SerializerMethodField(
        help_text="The address to open on the tablet; shown only in this answer."
    )

    def get_url(self, device) -> str:
        path = reverse("distribution:kiosk", args=[self.context["token"]])
        return self.context["request"].build_absolute_uri(path)


def _field_errors(error: ApplicationError) -> exceptions.ValidationError:
    fields = error.extra.get("fields") or {
        error.extra.get("field", "non_field_errors"): [error.message]
    }
    return exceptions.ValidationError(fields)


@extend_schema_view(
    list=extend_schema(summary="List kiosk devices"),
    retrieve=extend_schema(summary="Read a kiosk device"),
    create=extend_schema(
        summary="Register a kiosk device",
        responses={201: KioskDeviceCreatedSerializer},
        description="The answer holds the device's `url`, never shown again. 400 with field "
        "errors when the survey is not published or cannot be asked on a kiosk.",
    ),
)
@extend_schema(tags=[TAG])
class KioskDeviceViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Tablets that ask one survey's smiley question at a touchpoint; answers arrive with the
    channel `kiosk` and the hidden fields `kiosk` (the device id) and `location`."""

    policy = policies.KIOSKS
    serializer_class = KioskDeviceSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(KioskDevice)
        return selectors.kiosk_device_list(organization=self.organization)

    def get_object(self):
        return selectors.access_kiosk_device(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def _created(self, device, token: str, code: int) -> Response:
        device = self.get_queryset().get(pk=device.pk)
        context = {**self.get_serializer_context(), "token": token}
        body = KioskDeviceCreatedSerializer(device, context=context).data
        return Response(body, status=code, headers={"Cache-Control": "no-store"})

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            device, token = kiosk_services.kiosk_device_create(
                actor=self.actor, organization=self.organization, **incoming.validated_data
            )
        except ApplicationError as refused:
            raise _field_errors(refused) from refused
        return self._created(device, token, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Give a kiosk device a new address",
        request=None,
        responses=KioskDeviceCreatedSerializer,
        description="The old address stops working at once; a removed device is active again.",
    )
    @action(detail=True, methods=["post"], url_path="new-address")
    def new_address(self, request, *args, **kwargs):
        device = self.get_object()
        token = kiosk_services.kiosk_device_new_token(actor=self.actor, device=device)
        return self._created(device, token, status.HTTP_200_OK)

    @extend_schema(
        summary="Remove a kiosk device",
        request=None,
        responses=KioskDeviceSerializer,
        description="Its page stops taking answers at once (the next sync is answered 410); the "
        "answers it sent stay. Removing a removed device changes nothing.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        device = kiosk_services.kiosk_device_revoke(actor=self.actor, device=self.get_object())
        return Response(self.get_serializer(device).data)


ROUTES: list[tuple[str, type, str]] = [("kiosk-devices", KioskDeviceViewSet, "kiosk-device")]
