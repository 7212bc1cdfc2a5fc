import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_uploaded_files_kept_in_the_database_are_compressed_with_lz4():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attrelid::regclass::text, attcompression FROM pg_attribute "
            "WHERE attname = 'content' AND attrelid IN "
            "('distribution_contactimport'::regclass, 'surveys_responseimport'::regclass)"
        )
        assert dict(cursor.fetchall()) == {
            "distribution_contactimport": "l",
            "surveys_responseimport": "l",
        }
