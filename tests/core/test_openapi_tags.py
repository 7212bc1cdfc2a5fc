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
