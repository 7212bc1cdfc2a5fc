"""The base of every API view under /api/v1/orgs/<org_slug>/."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import ActivityLog
from core.scoping import no_rows
from core.throttling import rate_limit_headers
from tenancy import policies
from tenancy.actors import Actor
from tenancy.models import Membership
from tenancy.policies import Policy
from tenancy.scoping import tenant_scope
from tenancy.selectors import (
    activity_list,
    membership_for_user,
    membership_list,
    organization_for_slug,
)
from tenancy.serializers import ActivitySerializer, MembershipSerializer, OrganizationSerializer

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class OrganizationAPIMixin:
    """Resolves the organization, checks the API key or membership, opens the tenant scope.

    An API key of another organization, or a user who is not a member, gets 404 for every URL,
    so ids can't be probed. Read-only keys and roles without the write permission get 403.
    """

    policy: Policy

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for guarded in ("dispatch", "initial"):
            if guarded in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} must not override {guarded}(); tenancy depends on it"
                )

    def dispatch(self, request, *args, **kwargs):
        self.organization = organization_for_slug(kwargs.get("org_slug", ""))
        # Lets the API key be found within the organization the URL names (one shard).
        request.organization = self.organization
        with tenant_scope(self.organization):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.actor = request.actor = self._resolve_actor(request)
        needed = self.policy.read if request.method in SAFE_METHODS else self.policy.write
        if not self.actor.can(needed):
            raise exceptions.PermissionDenied("Your role or API key may not do this.")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        rate_limit_headers(request, response)
        return response

    def _resolve_actor(self, request) -> Actor:
        organization = self.organization
        if organization is None:
            raise exceptions.NotFound()
        api_key = request.auth if getattr(request.auth, "is_api_key", False) else None
        if api_key is not None:
            if api_key.organization_id != organization.pk:
                raise exceptions.NotFound()
            return Actor.for_api_key(api_key)
        membership = membership_for_user(user=request.user, organization_slug=organization.slug)
        if membership is None:
            raise exceptions.NotFound()
        return Actor.for_membership(membership)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["organization"] = getattr(self, "organization", None)
        context["actor"] = getattr(self, "actor", None)
        return context

    @property
    def schema_only(self) -> bool:
        """True while drf-spectacular introspects the view (no request, no tenant)."""
        return getattr(self, "swagger_fake_view", False)


class OrganizationAPIView(OrganizationAPIMixin, APIView):
    pass


class OrganizationViewSet(OrganizationAPIMixin, viewsets.GenericViewSet):
    lookup_field = "public_id"
    lookup_url_kwarg = "public_id"


@extend_schema(tags=["Organization"])
class OrganizationDetailAPI(OrganizationAPIView):
    """The organization the URL names."""

    policy = policies.ORGANIZATION

    @extend_schema(responses=OrganizationSerializer)
    def get(self, request, org_slug: str):
        return Response(OrganizationSerializer(self.organization).data)


@extend_schema(tags=["Members"])
class MembershipViewSet(OrganizationViewSet, mixins.ListModelMixin):
    """Members of the organization and their roles (read-only; people are managed in the browser)."""

    policy = policies.MEMBERS
    serializer_class = MembershipSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Membership)
        return membership_list(organization=self.organization)


@extend_schema(tags=["Activity"])
class ActivityViewSet(OrganizationViewSet, mixins.ListModelMixin):
    """The audit log, newest first (keys can't read it: it needs the manage-organization permission)."""

    policy = policies.ACTIVITY
    serializer_class = ActivitySerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(ActivityLog)
        return activity_list(organization=self.organization)
