import hmac

from rest_framework import authentication, exceptions

from accounts.models import ApiKey, hash_secret
from accounts.services import api_key_touch


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
        api_key = ApiKey.all_objects.select_related("organization").filter(prefix=prefix).first()
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
