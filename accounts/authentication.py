import hmac

from rest_framework import authentication, exceptions

from accounts.models import ApiKey, hash_secret
from accounts.services import api_key_touch
from core import handles
from core.models import HandleKind


class ApiKeyPrincipal:
    """The `request.user` of a request authenticated by an API key (the key is `request.auth`)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key

    def __str__(self) -> str:
        return str(self.api_key)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`; the key's prefix finds the row, its hash proves the secret."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2 or "." not in parts[1]:
            raise exceptions.AuthenticationFailed("Malformed bearer key.")
        raw_key = parts[1]
        prefix = raw_key.split(".", 1)[0]
        api_key = _api_key_for(prefix, getattr(request, "organization", None))
        if (
            api_key is None
            or not hmac.compare_digest(api_key.secret_hash, hash_secret(raw_key))
            or not api_key.is_active
        ):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key_touch(api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def _api_key_for(prefix: str, organization) -> ApiKey | None:
    """The key with this prefix: looked up within the organization the URL names, else (a key
    of another organization, or no organization in the URL) through the handle directory."""
    if organization is not None:
        api_key = ApiKey.all_objects.filter(organization_id=organization.pk, prefix=prefix).first()
        if api_key is not None:
            api_key.organization = organization
            return api_key
    found = handles.resolve(HandleKind.API_KEY, prefix)
    if found is None:
        return None
    return (
        ApiKey.all_objects.select_related("organization")
        .filter(organization_id=found.organization_id, pk=found.object_id)
        .first()
    )
