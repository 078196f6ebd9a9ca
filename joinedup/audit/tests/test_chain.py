"""The audit log in the database: appended as one chain, never changed, tampering caught."""

import re
import threading
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from joinedup.audit.checkpoints import chain_key
from joinedup.audit.models import AppendOnlyError, AuditEvent, AuditHead
from joinedup.audit.rules import GENESIS_HASH, entry_hash
from joinedup.audit.selectors import verify_audit_chain
from joinedup.audit.services import Entry, append
from joinedup.audit.tests.tampering import triggers_off
from joinedup.people.models import User

TABLE = AuditEvent._meta.db_table
TRIGGER = "audit_append_only"


def _stored(entries: list[Entry]) -> list[AuditEvent]:
    """Append the entries and read back what was stored."""
    return list(AuditEvent.objects.filter(seq__in=append(entries)).order_by("seq"))


def _append(count: int, prefix: str = "test.event") -> list[AuditEvent]:
    events = []
    for number in range(count):
        events += _stored([Entry(action=f"{prefix}.{number}", allowed=True, reason="seen")])
    return events


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _trigger_enabled() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
            [TRIGGER, TABLE],
        )
        (state,) = cursor.fetchone()
    return state == "O"


def _tamper(sql: str, params=()) -> None:
    """Run raw SQL against the log: the database's triggers refuse it first, then it is run
    as the database's owner could, with the triggers off."""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute(sql, params)
    with triggers_off(connection):
        _execute(sql, params)
    if connection.vendor == "postgresql":
        assert _trigger_enabled()


def _assert_command_names_break(problem: str) -> None:
    with pytest.raises(CommandError, match=re.escape(f"Audit chain broken: {problem}.")):
        call_command("verify_audit")


# Appending


def test_append_nothing_writes_nothing(db):
    assert list(append([])) == []
    assert not AuditEvent.objects.exists()
    assert not AuditHead.objects.exists()


def test_first_entry_links_to_genesis(db):
    (event,) = _stored([Entry(action="test.first")])
    assert event.seq == 1
    assert event.prev_hash == GENESIS_HASH
    assert event.hash == entry_hash(chain_key(), GENESIS_HASH, event.hashed_fields())


def test_append_builds_a_linked_chain(db):
    _append(3)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [event.seq for event in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash
    for event in events:
        assert event.hash == entry_hash(chain_key(), event.prev_hash, event.hashed_fields())


def test_one_append_of_several_entries_links_them_in_order(db):
    _append(1)
    events = _stored([Entry(action=f"test.batch.{n}") for n in range(3)])
    assert [event.seq for event in events] == [2, 3, 4]
    assert events[0].prev_hash == AuditEvent.objects.get(seq=1).hash
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash


def test_head_records_the_last_entry(db):
    events = _append(4)
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (4, events[-1].hash)


def test_append_records_the_signed_in_actor(db):
    user = User.objects.create_user("auditor@nb.ac.uk", "pw")
    (event,) = _stored([Entry(action="test.actor", actor=user, actor_role="practitioner")])
    assert event.actor == user
    assert event.actor_email == "auditor@nb.ac.uk"
    assert event.actor_role == "practitioner"


def test_every_field_is_stored_as_given_and_hashed_as_stored(hub):
    """Rows are written from plain values: each field, awkward text included, must come back
    exactly, and the stored row must hash to its stored hash."""
    entry = Entry(
        action="test.fields", actor=hub.practitioner, student=hub.student, category="risk",
        allowed=False, basis="none", reason="tab\there, new\nline, back\\slash, “quotes”, é",
        actor_role="practitioner", actor_service="Wellbeing", actor_organisation="Uni",
        request_id="req-1",
    )  # fmt: skip
    (event,) = _stored([entry])
    assert (event.actor_id, event.actor_email) == (hub.practitioner.pk, hub.practitioner.email)
    assert event.student_id == hub.student.pk
    for name in ("action", "category", "allowed", "basis", "reason", "actor_role",
                 "actor_service", "actor_organisation", "request_id"):  # fmt: skip
        assert getattr(event, name) == getattr(entry, name), name
    assert event.hash == entry_hash(chain_key(), event.prev_hash, event.hashed_fields())
    assert verify_audit_chain().broken is None


def test_an_unsaved_student_is_refused_and_nothing_is_written(hub):
    from joinedup.people.models import Student

    with pytest.raises(ValueError, match="not saved"):
        append([Entry(action="test.ok", student=hub.student),
                Entry(action="test.unsaved", student=Student(legal_given_name="New"))])  # fmt: skip
    assert not AuditEvent.objects.filter(action__startswith="test.").exists()
    assert verify_audit_chain().broken is None


def test_append_returns_the_sequence_numbers_given(db):
    _append(2)
    assert list(append([Entry(action="test.a"), Entry(action="test.b")])) == [3, 4]


def test_anonymous_actor_is_recorded_as_nobody(db):
    from django.contrib.auth.models import AnonymousUser

    (event,) = _stored([Entry(action="test.anonymous", actor=AnonymousUser())])
    assert event.actor is None
    assert event.actor_email == ""


def test_intact_chain_verifies(db):
    _append(5)
    result = verify_audit_chain()
    assert result.broken is None
    assert result.checked == 5


def test_chain_verifies_across_batches(db):
    _append(7)
    result = verify_audit_chain(batch_size=3)
    assert result.broken is None
    assert result.checked == 7


def test_empty_log_verifies(db):
    result = verify_audit_chain()
    assert result.broken is None
    assert result.checked == 0


def test_verify_command_reports_intact_chain(db, capsys):
    _append(3)
    call_command("verify_audit")
    assert "Audit chain intact: 3 entries." in capsys.readouterr().out


# The ORM refuses changes


def test_saving_an_existing_entry_is_refused(db):
    (event,) = _append(1)
    event.reason = "nothing to see"
    with pytest.raises(AppendOnlyError):
        event.save()
    stored = AuditEvent.objects.get(seq=1)
    with pytest.raises(AppendOnlyError):
        stored.save()
    assert AuditEvent.objects.get(seq=1).reason == "seen"


def test_deleting_an_entry_is_refused(db):
    (event,) = _append(1)
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(seq=1).exists()


def test_queryset_update_is_refused(db):
    _append(2)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(reason="nothing to see")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(allowed=False)
    assert set(AuditEvent.objects.values_list("reason", flat=True)) == {"seen"}


def test_queryset_delete_is_refused(db):
    _append(2)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


def test_bulk_update_is_refused(db):
    events = _append(2)
    for event in events:
        event.reason = "nothing to see"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update(events, ["reason"])
    assert set(AuditEvent.objects.values_list("reason", flat=True)) == {"seen"}


# Tampering below the ORM is caught


def test_row_altered_with_raw_sql_is_named(db):
    _append(4)
    _tamper("UPDATE audit_auditevent SET allowed = %s, reason = %s WHERE seq = %s", [False, "", 2])
    assert AuditEvent.objects.get(seq=2).allowed is False
    result = verify_audit_chain()
    assert result.broken is not None
    assert result.broken.seq == 2
    assert result.broken.problem == "entry 2 was altered after it was written"
    _assert_command_names_break("entry 2 was altered after it was written")


def test_row_altered_with_a_recomputed_hash_breaks_the_next_link(db):
    _append(4)
    forged = AuditEvent.objects.get(seq=2)
    forged.allowed = False
    new_hash = entry_hash(chain_key(), forged.prev_hash, forged.hashed_fields())
    _tamper(
        "UPDATE audit_auditevent SET allowed = %s, hash = %s WHERE seq = %s", [False, new_hash, 2]
    )
    result = verify_audit_chain()
    assert result.broken.seq == 3
    assert result.broken.problem == "entry 3 does not link to the entry before it"
    _assert_command_names_break("entry 3 does not link to the entry before it")


def test_middle_row_deleted_with_raw_sql_is_named(db):
    _append(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    assert AuditEvent.objects.count() == 4
    result = verify_audit_chain()
    assert result.broken.seq == 3
    assert result.broken.problem == "entry 3 is missing"
    _assert_command_names_break("entry 3 is missing")


def test_tail_deleted_with_raw_sql_is_caught_by_the_head(db):
    _append(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq > %s", [3])
    result = verify_audit_chain()
    assert result.broken.seq == 4
    assert result.broken.problem == "entries after 3 are missing"
    _assert_command_names_break("entries after 3 are missing")


def test_the_database_refuses_update_and_delete(db):
    _append(2)
    for sql in (
        "UPDATE audit_auditevent SET reason = 'changed' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 2",
        "DELETE FROM audit_auditevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _execute(sql)
    assert list(AuditEvent.objects.values_list("seq", "reason")) == [(1, "seen"), (2, "seen")]


def test_the_database_refuses_truncate_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE trigger covers emptying the table.")
    _append(1)
    _execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.count() == 1


def test_append_only_triggers_are_installed(db):
    if connection.vendor == "postgresql":
        assert _trigger_enabled()
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
        )
        names = {name for (name,) in cursor.fetchall()}
    assert names == {"audit_append_only_update", "audit_append_only_delete"}


# Concurrency


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    per_writer, writers = 15, 2
    if connection.vendor == "postgresql":
        barrier = threading.Barrier(writers)
        errors: list[BaseException] = []

        def write(name: str) -> None:
            try:
                barrier.wait(timeout=10)
                _append(per_writer, prefix=f"test.{name}")
            except BaseException as exc:  # reported to the main thread below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
    else:
        # SQLite serialises writers with IMMEDIATE transactions; check the chain sequentially.
        for n in range(writers):
            _append(per_writer, prefix=f"test.w{n}")

    total = per_writer * writers
    events = list(AuditEvent.objects.order_by("seq"))
    assert [event.seq for event in events] == list(range(1, total + 1))
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash
    assert {event.action.rsplit(".", 1)[0] for event in events} == {"test.w0", "test.w1"}
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (total, events[-1].hash)
    result = verify_audit_chain()
    assert result.broken is None
    assert result.checked == total


def test_entries_appended_in_a_rolled_back_transaction_are_kept(hub):
    from joinedup.audit.services import kept_through_rollback
    from joinedup.people.models import Student

    def an_import_that_fails():
        with kept_through_rollback(), transaction.atomic():
            append([Entry("import.tried", student=hub.student)])
            created = Student.objects.create(
                university=hub.university, legal_given_name="A", legal_family_name="B",
                date_of_birth=hub.student.date_of_birth, student_number="GONE1",
            )  # fmt: skip
            append([Entry("import.tried", student=created)])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        an_import_that_fails()
    kept = AuditEvent.objects.filter(action="import.tried").order_by("seq")
    assert [e.student_id for e in kept] == [hub.student.pk, None]
    assert verify_audit_chain().broken is None
