"""drop_column_index: the redundant foreign-key indexes are gone after migrate, and the operation reverses."""

from __future__ import annotations

import pytest
from django.db import connection

from leadwerk.core.migration_ops import drop_column_index

pytestmark = pytest.mark.django_db


def _plain_indexes(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        info["columns"]
        for info in constraints.values()
        if info["index"] and not (info["unique"] or info["primary_key"] or info["foreign_key"])
    ]


def test_migrated_tables_keep_only_the_composite_indexes():
    person = _plain_indexes("contacts_person")
    assert ["tenant_id"] not in person
    assert ["tenant_id", "postcode", "last_name_key"] in person  # every person index starts with the tenant
    changes = _plain_indexes("imports_importchange")
    assert ["tenant_id"] not in changes and ["job_id"] not in changes
    assert ["job_id", "record_id"] in changes


def test_drop_and_restore_on_a_scratch_table():
    operation = drop_column_index("scratch_index_test", "owner_id")
    # Inside the test's transaction (rolled back after it); SQLite's editor cannot be entered there.
    editor = connection.SchemaEditorClass(connection, atomic=False)
    editor.execute("CREATE TABLE scratch_index_test (id integer PRIMARY KEY, owner_id integer, other integer)")
    editor.execute("CREATE INDEX scratch_owner ON scratch_index_test (owner_id)")
    editor.execute("CREATE INDEX scratch_owner_other ON scratch_index_test (owner_id, other)")
    operation.code(None, editor)
    assert _plain_indexes("scratch_index_test") == [["owner_id", "other"]]
    operation.reverse_code(None, editor)
    assert sorted(_plain_indexes("scratch_index_test")) == [["owner_id"], ["owner_id", "other"]]
