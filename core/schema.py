"""The OpenAPI schema class of every API view (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"])."""

from drf_spectacular.openapi import AutoSchema


class ResourceAutoSchema(AutoSchema):
    """Groups the documentation by resource. Viewsets name their resource with
    `@extend_schema(tags=[...])`; a view without one is grouped under its app ("Metrics"), not
    under drf-spectacular's default, the first path segment, which is "orgs" for every path."""

    def get_tags(self) -> list[str]:
        tags = super().get_tags()  # a class's tags may come after this one in the MRO
        if tags == AutoSchema.get_tags(self):
            return [type(self.view).__module__.split(".")[0].capitalize()]
        return tags
