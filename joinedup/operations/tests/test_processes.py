"""The processes of a deployment, started as an operator starts them: the server answers
its health checks, and each says clearly why it cannot start."""

import io
import json
import os
import socket
import subprocess
import sys

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from joinedup.operations.tests.processes import database_url, environment, joinedup


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes]:
    response = requests.get(url, headers={"Accept": "application/json"}, timeout=30)
    return response.status_code, response.content


def serve(tmp_path, port: int) -> subprocess.Popen:
    """`joinedup serve` with one worker on `port`, once its worker is ready."""
    server = subprocess.Popen(  # noqa: S603 - this project's own command
        [sys.executable, "-m", "joinedup", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        env=environment(tmp_path, database_url(tmp_path)) | {"HOME": str(tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    # Gunicorn writes "Booting worker" once a worker is ready to accept requests.
    started = []
    for line in server.stdout:
        started.append(line)
        if "Booting worker" in line:
            break
    assert any("with 1 workers" in line for line in started), started
    return server


def stop(server: subprocess.Popen) -> str:
    server.terminate()
    return server.communicate(timeout=60)[0]


@pytest.mark.django_db(transaction=True)
def test_serve_answers_pages_and_health_checks(tmp_path):
    port = free_port()
    server = serve(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = fetch(f"{base}/health/ready")
        assert status == 200
        assert set(json.loads(body).values()) == {"OK"}
        assert fetch(f"{base}/health/live")[0] == 200
        status, body = fetch(f"{base}/accessibility/")
        assert status == 200
        assert b"Accessibility" in body
    finally:
        stop(server)


@pytest.mark.django_db(transaction=True)
def test_two_servers_run_side_by_side_and_each_carries_on_when_the_other_stops(tmp_path):
    ports = free_port(), free_port()
    first = serve(tmp_path, ports[0])
    try:
        second = serve(tmp_path, ports[1])
    finally:
        said = stop(first)
    try:
        assert "Traceback" not in said
        assert fetch(f"http://127.0.0.1:{ports[1]}/health/live")[0] == 200
        # Neither made gunicorn's control socket, whose one path they would share.
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        assert "Traceback" not in stop(second)


def test_the_scheduler_says_when_it_cannot_reach_the_database(tmp_path):
    done = joinedup(
        "scheduler", "--once", env=environment(tmp_path, "postgres://nobody@127.0.0.1:1/none")
    )
    assert done.returncode == 1
    assert "The scheduler cannot reach the database (none), so it did nothing." in done.stderr
    assert "Check DATABASE_URL" in done.stderr


def test_the_worker_says_when_the_database_has_not_been_migrated(tmp_path):
    done = joinedup("worker", "--batch", env=environment(tmp_path, f"sqlite:///{tmp_path}/x.db"))
    assert done.returncode == 1
    assert "has not been migrated: run `joinedup migrate` first; the worker ran nothing" in (
        done.stderr
    )


def test_a_backup_says_when_it_cannot_reach_the_database(tmp_path):
    (tmp_path / "backups").mkdir()
    done = joinedup(
        "backup",
        str(tmp_path / "backups"),
        env=environment(tmp_path, "postgres://nobody@127.0.0.1:1/none"),
    )
    assert done.returncode == 1
    assert "The backup cannot reach the database (none), so it did nothing." in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(("given", "kept"), [({}, "600"), ({"DATABASE_CONN_MAX_AGE": "30"}, "30")])
def test_serve_keeps_database_connections_unless_told_otherwise(monkeypatch, settings, given, kept):
    settings.DEBUG = True  # no collected static files needed
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT_MS", raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    started = []
    monkeypatch.setattr("os.execv", lambda path, argv: started.append(argv))
    call_command("serve", "--workers", "1", stdout=io.StringIO())
    assert [argv[-1] for argv in started] == ["joinedup.wsgi:application"]
    assert os.environ["DATABASE_CONN_MAX_AGE"] == kept
    assert os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] == "30000"


@pytest.mark.django_db(transaction=True)
def test_a_process_refuses_a_database_without_this_releases_migrations():
    from joinedup.operations.readiness import require_database
    from joinedup.tests.migrating import back_at

    with (
        back_at([("operations", "0001_jobs_and_leases")]),
        pytest.raises(CommandError, match=r"lacks 1 of this release's migrations \(operations"),
    ):
        require_database("server")
    require_database("server")  # migrated again: it starts


@pytest.mark.django_db
def test_a_process_refuses_to_start_when_audit_checkpoints_cannot_be_written(settings, tmp_path):
    from joinedup.operations.readiness import require_database

    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "missing" / "audit-checkpoints.jsonl")
    with pytest.raises(CommandError, match=r"missing\): create it, or set AUDIT_CHECKPOINT_FILE"):
        require_database("worker")
    (tmp_path / "missing").mkdir()
    require_database("worker")
