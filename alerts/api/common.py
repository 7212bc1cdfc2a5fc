"""Fields and plumbing the alerts endpoints share.

Related objects are named by public id and looked up inside the URL's organization only: an id of
another organization is a 400 field error "Not found.", never accepted and never told apart from
an id that does not exist. People are named by their user id (`usr_...`) and must be members.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import CursorPagination
from core.scoping import no_rows
from journeys.selectors import owner_lookup


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")


class SingletonSchema(AutoSchema):
    """`list` of a singleton answers one object: no array and no pagination in the schema."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


@extend_schema_field(OpenApiTypes.STR)
class TenantRelatedField(serializers.RelatedField):
    """An object of the request's organization, named by its public id."""

    default_error_messages = {"not_found": "Not found.", "invalid": "Give a public id."}

    def __init__(self, model, **kwargs):
        self.model = model
        if not kwargs.get("read_only"):
            kwargs["queryset"] = no_rows(model)  # the organization's, per request
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.filter(organization=self.context["organization"])

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data:
            self.fail("invalid")
        found = self.get_queryset().filter(public_id=data).first()
        if found is None:
            self.fail("not_found")
        return found

    def to_representation(self, value) -> str:
        return value.public_id


@extend_schema_field({"type": "string", "nullable": True, "example": "usr_..."})
class MemberField(serializers.Field):
    """A member of the organization named by user id (`usr_...`) or email; null for nobody.

    With `allow_me`, "me" names the signed-in person (an API key has no person: a field error).
    """

    default_error_messages = {
        "not_member": "Not a member of this organization.",
        "invalid": "Give a member's user id (usr_...).",
        "no_person": "An API key is not a person: give a user id.",
    }

    def __init__(self, *, allow_me: bool = False, **kwargs):
        self.allow_me = allow_me
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        if self.allow_me and data == "me":
            user = getattr(self.context.get("actor"), "user", None)
            if user is None:
                self.fail("no_person")
            return user
        user = owner_lookup(organization=self.context["organization"], reference=data)
        if user is None:
            self.fail("not_member")
        return user

    def to_representation(self, user) -> str:
        return user.public_id


def public_id(obj) -> str | None:
    """The public id of a related object that may be missing."""
    return obj.public_id if obj is not None else None
