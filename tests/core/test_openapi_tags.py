"""The API documentation groups operations by resource (one tag each), not all under "orgs"."""

from collections import defaultdict

from drf_spectacular.generators import SchemaGenerator


def test_every_operation_is_tagged_with_its_resource():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    tags = defaultdict(set)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert len(operation["tags"]) == 1, (method, path)
            tags[operation["tags"][0]].add(path.removeprefix("/api/v1/orgs/{org_slug}/"))
    assert "orgs" not in tags
    assert all(tag[0].isupper() for tag in tags), sorted(tags)
    assert tags["Responses"] == {"responses/", "responses/{public_id}/", "responses/bulk/"}
    assert {"Surveys", "Survey questions", "Journeys", "Contacts", "Cases", "Metrics"} <= set(tags)


def test_every_resource_in_use_is_described_and_every_description_is_used():
    from django.conf import settings

    schema = SchemaGenerator().get_schema(request=None, public=True)
    used = {
        operation["tags"][0]
        for operations in schema["paths"].values()
        for operation in operations.values()
    }
    described = {tag["name"] for tag in settings.SPECTACULAR_SETTINGS["TAGS"]}
    assert used == described
    assert [tag["name"] for tag in schema["tags"]][:3] == ["Organization", "Members", "Activity"]


def test_every_operation_documents_its_errors_in_the_error_format():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/orgs/"):
            continue
        for method, operation in operations.items():
            for code in ("401", "403", "404", "429"):
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
