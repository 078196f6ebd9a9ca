"""Backups that restore: the database and the uploaded files in one archive, with a
manifest of how many rows each table held, and a restore that refuses to overwrite
anything and then checks every table and the audit chain.

On PostgreSQL the rows are counted in the same snapshot `pg_dump` reads (an exported
snapshot of a repeatable-read transaction), so a backup taken while people work agrees with
its manifest; on SQLite the online backup API copies a consistent image and the rows are
counted in the copy. An archive is written under a temporary name and renamed when whole,
so a failure (a full disk) leaves no archive that looks finished."""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from joinedup.audit.services import Entry, append

FORMAT = 1
MANIFEST = "manifest.json"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """Why a backup or restore cannot go on; nothing was changed."""


@dataclass(frozen=True)
class Restored:
    tables: int
    rows: int
    media_files: int


def engine() -> str:
    return connection.vendor  # "postgresql" or "sqlite"


def _pg(tool: str, *args: str) -> None:
    """Run a PostgreSQL client tool against the configured database."""
    db = connection.settings_dict
    argv = [tool, "--dbname", db["NAME"], "--no-password"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            argv += [flag, str(db[key])]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    if sslmode := db.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    done = subprocess.run([*argv, *args], env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        raise BackupError(f"{tool} failed: {done.stderr.strip()}")


def _count_rows(cursor, tables) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        # Table names come from the database's own catalogue.
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def _dump_postgresql(path: Path) -> dict[str, int]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _count_rows(cursor, connection.introspection.table_names(cursor))
        _pg("pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={path}")
    return counts


def _dump_sqlite(path: Path) -> dict[str, int]:
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    try:
        connection.connection.backup(copy)
        tables = [
            name
            for (name,) in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {
            table: copy.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in sorted(tables)
        }
    finally:
        copy.close()
    return counts


def _media_files(root: str | Path) -> list[Path]:
    root = Path(root)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.is_dir() else []


def back_up(directory: str | Path) -> Path:
    """Write one archive of the database and the uploaded files into `directory`; its path."""
    directory = Path(directory)
    if not directory.exists():
        raise BackupError(f"No directory at {directory}: create it first. Nothing was written.")
    if not directory.is_dir():
        raise BackupError(f"{directory} is a file, not a directory. Nothing was written.")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    final = directory / f"joinedup-{stamp}.tar"
    if final.exists():
        raise BackupError(f"{final} already exists; nothing was written.")
    media_root = Path(settings.MEDIA_ROOT)
    # A copy of every record is about to exist outside the database: the log says where,
    # before the snapshot, so the archive holds that entry too and a restore's chain ends
    # where the checkpoints of this server say it does.
    append([Entry(action="operations.backup", actor_role="operator",
                  reason=f"Backing up the database and uploaded files to {final}.")])  # fmt: skip
    with tempfile.TemporaryDirectory(dir=directory, prefix=".joinedup-backup-") as work:
        work = Path(work)
        dump = work / DUMPS[engine()]
        try:
            counts = (_dump_postgresql if engine() == "postgresql" else _dump_sqlite)(dump)
            media = _media_files(media_root)
            manifest = {
                "format": FORMAT,
                "engine": engine(),
                "created_at": timezone.now().isoformat(),
                "tables": counts,
                "media_files": len(media),
            }
            (work / MANIFEST).write_text(json.dumps(manifest, indent=1))
            partial = work / "archive.tar"
            with tarfile.open(partial, "w") as archive:
                archive.add(work / MANIFEST, MANIFEST)
                archive.add(dump, dump.name)
                for path in media:
                    archive.add(path, f"media/{path.relative_to(media_root)}")
            partial.chmod(0o600)  # it holds everything about every student
            partial.rename(final)
        except OSError as error:
            raise BackupError(f"Could not write the backup: {error}. Nothing was kept.") from error
    return final


def read_manifest(archive_path: Path) -> dict:
    try:
        with tarfile.open(archive_path) as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise BackupError(
            f"{archive_path} cannot be read as a JoinedUp backup: it is damaged or is another "
            "kind of file. Nothing was changed."
        ) from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} is a backup of format {manifest.get('format')}.")
    return manifest


def restore(archive_path: str | Path) -> Restored:
    """Restore an archive into the configured database, which must be empty, and the
    uploaded files into `MEDIA_ROOT`, which must hold none; then check that every table
    holds the rows the manifest counted."""
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"No backup at {archive_path}.")
    manifest = read_manifest(archive_path)
    if manifest["engine"] != engine():
        raise BackupError(
            f"This backup is of a {manifest['engine']} database; DATABASE_URL names a "
            f"{engine()} one. Nothing was changed."
        )
    existing = connection.introspection.table_names()
    if existing:
        raise BackupError(
            f"The database ({connection.settings_dict['NAME']}) is not empty: it has "
            f"{len(existing)} tables. Restore into a new, empty database (point DATABASE_URL "
            "at it); nothing was changed."
        )
    media_root = Path(settings.MEDIA_ROOT)
    if _media_files(media_root):
        raise BackupError(
            f"MEDIA_ROOT ({media_root}) already holds files; restore into an empty one. "
            "Nothing was changed."
        )
    with tempfile.TemporaryDirectory(prefix="joinedup-restore-") as work:
        work = Path(work)
        with tarfile.open(archive_path) as archive:
            archive.extractall(work, filter="data")
        dump = work / DUMPS[engine()]
        if engine() == "postgresql":
            _pg("pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", str(dump))
        else:
            connection.ensure_connection()
            source = sqlite3.connect(dump)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
        if (work / "media").is_dir():
            shutil.copytree(work / "media", media_root, dirs_exist_ok=True)
    with connection.cursor() as cursor:
        counts = _count_rows(cursor, connection.introspection.table_names(cursor))
    if counts != manifest["tables"]:
        differ = sorted(
            table
            for table in counts.keys() | manifest["tables"].keys()
            if counts.get(table) != manifest["tables"].get(table)
        )
        raise BackupError(f"The restored database differs from the backup in: {', '.join(differ)}.")
    media = len(_media_files(media_root))
    if media != manifest["media_files"]:
        raise BackupError(f"Restored {media} files of {manifest['media_files']}.")
    return Restored(tables=len(counts), rows=sum(counts.values()), media_files=media)
