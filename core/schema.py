"""The OpenAPI schema class of every API view (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"])."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# `@extend_schema_field(NULLABLE_STR)` on a method field that may answer null (an optional
# relation's public id): OpenApiTypes.STR alone documents a string that is never null.
NULLABLE_STR = {"type": "string", "nullable": True}


class ErrorSerializer(serializers.Serializer):
    """The one error format of the API (`core.api.exception_handler`)."""

    message = serializers.CharField(help_text="For people; may be translated.")
    code = serializers.CharField(help_text="For programs: `invalid`, `not_found`, `throttled`...")
    extra = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Details. A validation error lists its messages per field in `fields`.",
    )


# What any operation may answer, whatever the view: a bad query string or body (400), no or a
# revoked key (401), a role or read key that may not (403), another organization's or a missing
# object (404), too many requests (429). Writes may also meet a state conflict (409), a body over
# the size limit (413) or a reused Idempotency-Key (422).
ERRORS = {
    "400": "Invalid input; field errors in `extra.fields`.",
    "401": "No API key or session, or a revoked key.",
    "403": "The role or API key may not do this.",
    "404": "Not found in this organization (objects of other organizations are not found).",
    "429": "Too many requests: wait `Retry-After` seconds.",
}
WRITE_ERRORS = {
    "409": "The object's state does not allow this.",
    "413": "The request body is too large.",
    "415": "The body's content type is not accepted here.",
    "422": "This Idempotency-Key was used for a different request.",
}
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": 'The key\'s quota policy, e.g. `"per-key";q=600;w=60`.',
    "RateLimit": 'Requests left and seconds until the window resets, e.g. `"per-key";r=599;t=42`.',
}


class ResourceAutoSchema(AutoSchema):
    """Groups the documentation by resource and documents the error answers every operation may
    give, in the one error format. Viewsets name their resource with `@extend_schema(tags=[...])`;
    a view without one is grouped under its app ("Metrics"), not under drf-spectacular's default,
    the first path segment, which is "orgs" for every path."""

    def get_tags(self) -> list[str]:
        tags = super().get_tags()  # a class's tags may come after this one in the MRO
        if tags == AutoSchema.get_tags(self):
            return [type(self.view).__module__.split(".")[0].capitalize()]
        return tags

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/orgs/"):
            return responses
        errors = dict(ERRORS)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            errors |= WRITE_ERRORS
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = description
            elif "content" not in responses[code]:  # an override gave only a description
                described = responses[code].get("description", description)
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = described
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if not self.path.startswith("/api/v1/orgs/"):
            return headers
        for name, description in RATE_LIMIT_HEADERS.items():
            headers.setdefault(name, {"schema": {"type": "string"}, "description": description})
        if str(status_code) == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before the next request.",
            }
        return headers
