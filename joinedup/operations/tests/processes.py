"""Run `joinedup` as its own process, on a database it can open: a file copy of the SQLite
test database (which lives in memory), or the PostgreSQL test database itself."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_url(directory: Path) -> str:
    """A URL another process can open holding what the test database holds now."""
    if connection.vendor == "postgresql":
        return postgres_url(connection.settings_dict["NAME"])
    path = directory / "copy.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()
    return f"sqlite:///{path}"


def postgres_url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def environment(directory: Path, database: str, **more: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "1",
        "JOINEDUP_VAR_DIR": str(directory),
        "DATABASE_URL": database,
        "SECRET_KEY": settings.SECRET_KEY,
        "AUDIT_CHAIN_KEY": settings.AUDIT_CHAIN_KEY,
        "AUDIT_CHECKPOINT_FILE": "",
        **more,
    }
    env.pop("TASKS_BACKEND", None)
    return env


def joinedup(*args: str, env: dict[str, str], timeout: float = 600):
    return subprocess.run(  # noqa: S603 - this project's own command
        [sys.executable, "-m", "joinedup", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
