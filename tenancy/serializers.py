from rest_framework import serializers

from core.models import ActivityLog
from tenancy.models import Membership, Organization


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "time_zone",
            "default_language",
            "languages",
            "embed_allowed_origins",
        ]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "created_at"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = ActivityLog
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "data",
        ]
        read_only_fields = fields
