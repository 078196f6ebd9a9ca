"""The container image and the compose file, checked as far as this machine can without a
container runtime: the Dockerfile linted (hadolint), the compose file valid against the
Compose Specification, its services wired as the README says, and each JoinedUp service's
command started as a plain process until it is doing its work."""

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from joinedup.operations.tests.processes import database_url, environment

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
OURS = {name: service for name, service in SERVICES.items() if "joinedup" in service["image"]}


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is installed with the development extras"
    return found


def test_the_dockerfile_passes_hadolint():
    done = subprocess.run(  # noqa: S603 - a pinned linter
        [tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_meets_the_compose_specification():
    done = subprocess.run(  # noqa: S603 - a pinned validator with the schema it ships
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_joinedup_service_runs_a_joinedup_command():
    assert set(OURS) == {"migrate", "app", "worker", "scheduler"}
    commands = get_commands()
    for name, service in OURS.items():
        assert service["command"][0] in commands, name
    assert [OURS[name]["command"][0] for name in ("app", "worker", "scheduler")] == [
        "serve",
        "worker",
        "scheduler",
    ]


def test_reports_read_from_the_replica_and_the_app_is_ready_only_when_healthy():
    environment_ = OURS["app"]["environment"]
    assert "@primary:5432/" in environment_["DATABASE_URL"]
    assert "@replica:5432/" in environment_["REPORTS_DATABASE_URL"]
    assert "/health/ready" in " ".join(OURS["app"]["healthcheck"]["test"])
    assert "wal_level=replica" in SERVICES["primary"]["command"]
    replica = (ROOT / "deploy/postgres/replica-start.sh").read_text()
    assert "pg_basebackup --host primary" in replica
    assert "--write-recovery-conf" in replica
    for name in ("app", "worker", "scheduler"):
        assert OURS[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - this project's own command
        [sys.executable, "-m", "joinedup", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(process: subprocess.Popen, words: str) -> list[str]:
    said = []
    for line in process.stdout:
        said.append(line)
        if words in line:
            return said
    pytest.fail(f"stopped before saying {words!r}: {''.join(said)}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("service", "working"),
    [("worker", "Starting worker worker_id="), ("scheduler", "detect_gaps: Succeeded.")],
)
def test_a_service_started_as_a_plain_process_does_its_work_and_stops_cleanly(
    tmp_path, service, working
):
    env = environment(tmp_path, database_url(tmp_path))
    env["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    process = start([*OURS[service]["command"]], env)
    try:
        wait_for_line(process, working)
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=120)
    assert process.returncode == 0, rest
