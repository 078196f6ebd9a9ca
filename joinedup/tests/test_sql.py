"""`__any_of`: a set of values as one query parameter, on SQLite and on PostgreSQL."""

import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_student
from joinedup.people.models import Student


@pytest.fixture
def students(hub) -> list[Student]:
    return [make_student(hub.university, f"AO{n}") for n in range(5)]


def test_any_of_finds_the_rows_named_and_no_others(students):
    wanted = frozenset(s.pk for s in students[1:4])
    found = set(Student.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
    assert found == wanted


def test_any_of_an_empty_set_finds_nothing(students):
    assert not Student.objects.filter(pk__any_of=frozenset()).exists()


def test_any_of_follows_a_relation_by_its_id(hub, students):
    hub.student.department = hub.history
    hub.student.save()
    in_history = Student.objects.filter(department_id__any_of=frozenset({hub.history.pk}))
    assert list(in_history) == [hub.student]


def test_any_of_sends_the_values_as_one_parameter(students):
    ids = frozenset(s.pk for s in students)
    with CaptureQueriesContext(connection) as queries:
        list(Student.objects.filter(pk__any_of=ids))
    sql = queries.captured_queries[0]["sql"]
    # One array (PostgreSQL) or one JSON list (SQLite), not a placeholder per value.
    assert sql.count(str(max(ids))) == 1
    assert ("ANY(" in sql) if connection.vendor == "postgresql" else ("json_each(" in sql)


def test_the_wsgi_application_keeps_what_start_up_loaded_out_of_the_collector():
    script = "import gc, joinedup.wsgi; print(gc.get_freeze_count())"
    frozen = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert int(frozen) > 10_000
