"""A backup of a loaded hub restores into an empty database with every row and file, and an
audit chain that verifies; a restore never overwrites anything."""

import errno
import tarfile
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from joinedup.audit.models import AuditEvent
from joinedup.operations import backup
from joinedup.operations.tests.processes import environment, joinedup, postgres_url


def rows_of(cursor, table: str) -> list[str]:
    cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
    return sorted(map(repr, cursor.fetchall()))


@pytest.fixture
def empty_database(tmp_path):
    """A URL of a new, empty database of the test's engine, and a connection to it made as
    Django makes the test database's (so that both read values alike)."""

    def connect(name):
        wrapper = type(connections["default"])
        restored = wrapper({**connection.settings_dict, "NAME": name}, "restored")
        opened.append(restored)
        return restored

    opened = []
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield f"sqlite:///{path}", lambda: connect(str(path))
        for each in opened:
            each.close()
        return
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = psycopg.connect(postgres_url("postgres").replace("postgres://", "postgresql://"))
    admin.autocommit = True
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name), lambda: connect(name)
    finally:
        for each in opened:
            each.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.mark.django_db(transaction=True)
def test_a_loaded_hub_restores_with_every_row_file_and_a_verifying_chain(
    tmp_path, empty_database, settings
):
    # This server's checkpoints, which the restored chain must meet, as on the same host.
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_FILE = str(checkpoints)
    call_command("demo", verbosity=0)
    (tmp_path / "backups").mkdir()
    call_command("backup", str(tmp_path / "backups"), stdout=StringIO())
    [archive] = (tmp_path / "backups").iterdir()

    url, open_restored = empty_database
    media = tmp_path / "restored-media"
    env = environment(
        tmp_path / "var", url, MEDIA_ROOT=str(media), AUDIT_CHECKPOINT_FILE=str(checkpoints)
    )
    (tmp_path / "var").mkdir()
    done = joinedup("restore", str(archive), env=env)
    assert done.returncode == 0, done.stderr
    # The backup is in the log it copied; the restore is in the restored database's log.
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert len(actions) > 50
    assert actions[-1] == "operations.backup"
    assert f"Audit chain intact: {len(actions)} entries." in done.stdout

    audit = {"audit_auditevent", "audit_audithead"}
    tables = set(connection.introspection.table_names()) - audit
    restored = open_restored()
    with connection.cursor() as source:
        target = restored.cursor()
        for table in tables:
            assert rows_of(target, table) == rows_of(source, table), table
    target.execute("SELECT action FROM audit_auditevent ORDER BY seq")
    assert [action for (action,) in target.fetchall()] == [*actions, "operations.restore"]
    log = rows_of(target, "audit_auditevent")
    files = sorted(
        p.relative_to(settings.MEDIA_ROOT) for p in backup._media_files(settings.MEDIA_ROOT)
    )
    assert files
    assert files == sorted(p.relative_to(media) for p in backup._media_files(media))

    # Restoring again would overwrite: refused, and nothing changes.
    again = joinedup("restore", str(archive), env=env)
    assert again.returncode == 1
    assert "is not empty" in again.stderr
    assert "nothing was changed" in again.stderr
    assert rows_of(restored.cursor(), "audit_auditevent") == log


@pytest.mark.django_db
def test_a_backup_needs_its_directory(tmp_path):
    with pytest.raises(CommandError, match=r"No directory at .*/missing: create it first"):
        call_command("backup", str(tmp_path / "missing"))
    (tmp_path / "notes").write_text("")
    with pytest.raises(CommandError, match=r"notes is a file, not a directory"):
        call_command("backup", str(tmp_path / "notes"))


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_readable_by_its_owner_only(tmp_path):
    call_command("backup", str(tmp_path), stdout=StringIO())
    [archive] = tmp_path.iterdir()
    assert archive.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db(transaction=True)  # a backup reads what was committed
def test_a_full_disk_leaves_no_archive_that_looks_whole(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tarfile, "open", full)
    with pytest.raises(CommandError, match=r"Could not write the backup: .*No space left"):
        call_command("backup", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_restore_refuses_what_is_not_a_backup(tmp_path):
    (tmp_path / "notes.tar").write_text("not an archive")
    with pytest.raises(
        CommandError, match=r"notes\.tar cannot be read as a JoinedUp backup: it is damaged"
    ):
        call_command("restore", str(tmp_path / "notes.tar"))
    with pytest.raises(CommandError, match="No backup at"):
        call_command("restore", str(tmp_path / "missing.tar"))


@pytest.mark.django_db(transaction=True)  # a backup reads what was committed
def test_restore_refuses_a_backup_of_the_other_engine(tmp_path, monkeypatch):
    (tmp_path / "backups").mkdir()
    call_command("backup", str(tmp_path / "backups"), stdout=StringIO())
    [archive] = (tmp_path / "backups").iterdir()
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    monkeypatch.setattr(backup, "engine", lambda: other)
    with pytest.raises(CommandError, match=f"backup is of a {connection.vendor} database"):
        call_command("restore", str(archive))


@pytest.mark.django_db(transaction=True)  # a backup reads what was committed
def test_restore_refuses_a_media_root_holding_files(tmp_path, monkeypatch, settings):
    (tmp_path / "backups").mkdir()
    call_command("backup", str(tmp_path / "backups"), stdout=StringIO())
    [archive] = (tmp_path / "backups").iterdir()
    monkeypatch.setattr(connection.introspection, "table_names", lambda *args: [])
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "letter.pdf").write_bytes(b"%PDF")
    with pytest.raises(CommandError, match=r"MEDIA_ROOT .* already holds files"):
        call_command("restore", str(archive))


@pytest.mark.django_db(transaction=True)
def test_a_restore_says_truly_that_entries_after_the_backup_are_lost(
    tmp_path, empty_database, settings
):
    from joinedup.audit.services import Entry, append

    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_FILE = str(checkpoints)
    append([Entry(action="test.before")])
    (tmp_path / "backups").mkdir()
    call_command("backup", str(tmp_path / "backups"), stdout=StringIO())
    [archive] = (tmp_path / "backups").iterdir()
    append([Entry(action="test.after")])  # written after the backup: no backup holds it

    url, _open_restored = empty_database
    (tmp_path / "var").mkdir()
    env = environment(
        tmp_path / "var", url, MEDIA_ROOT=str(tmp_path / "restored-media"),
        AUDIT_CHECKPOINT_FILE=str(checkpoints),
    )  # fmt: skip
    done = joinedup("restore", str(archive), env=env)
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert "its audit chain is intact to entry 2" in said
    assert "written after the backup was taken" in said
    assert "records entry 3" in said
    assert "altered" not in said
