"""Production settings: refuse to start without a secret, and switch every protection on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PRODUCTION_SECRET = "k3y-for-tests-" + "x" * 50
PRODUCTION_AUDIT_KEY = "audit-k3y-for-tests-" + "y" * 50
PRINT_AUDIT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps([settings.AUDIT_CHAIN_KEY, settings.AUDIT_CHECKPOINT_FILE, settings.SECRET_KEY]))
"""

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": settings.SESSION_COOKIE_HTTPONLY,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
    "X_FRAME_OPTIONS": settings.X_FRAME_OPTIONS,
    "MIDDLEWARE": settings.MIDDLEWARE,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "STAFF_IDLE_TIMEOUT": settings.STAFF_IDLE_TIMEOUT,
    "CACHES": settings.CACHES,
    "DATABASE": {k: v for k, v in settings.DATABASES["default"].items() if k != "PASSWORD"},
    "REPORTS": {k: v for k, v in settings.DATABASES["reports"].items() if k != "PASSWORD"},
}))
"""


def _env(tmp_path, **overrides) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ALLOWED_HOSTS"}
        and not key.startswith(("SECURE_", "AUDIT_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="joinedup.settings",
        JOINEDUP_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(BASE_DIR),
        AUDIT_CHAIN_KEY=PRODUCTION_AUDIT_KEY,
    )
    env.update(overrides)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - this interpreter, arguments written in this file
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _production_settings(tmp_path, **overrides) -> dict:
    env = _env(tmp_path, DEBUG="0", SECRET_KEY=PRODUCTION_SECRET, **overrides)
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _run(["-c", "import django; django.setup()"], _env(tmp_path, DEBUG="0"))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_with_development_secret_key_refuses_to_start(tmp_path):
    env = _env(tmp_path, DEBUG="0", SECRET_KEY="django-insecure-abc123")
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "SECRET_KEY is the development default; set a real one." in result.stderr


def test_production_does_not_write_a_development_key(tmp_path):
    _run(["-c", "import django; django.setup()"], _env(tmp_path, DEBUG="0"))
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_secret_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(PRODUCTION_SECRET + "\n")
    env = _env(tmp_path, DEBUG="0", SECRET_KEY_FILE=str(key_file))
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr


def test_production_without_audit_chain_key_refuses_to_start(tmp_path):
    env = _env(tmp_path, DEBUG="0", SECRET_KEY=PRODUCTION_SECRET, AUDIT_CHAIN_KEY="")
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: AUDIT_CHAIN_KEY must be set when DEBUG is off." in result.stderr


def test_production_audit_chain_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "audit-key"
    key_file.write_text("audit-key-from-a-file\n")
    env = _env(
        tmp_path, DEBUG="0", SECRET_KEY=PRODUCTION_SECRET, AUDIT_CHAIN_KEY="",
        AUDIT_CHAIN_KEY_FILE=str(key_file),
    )  # fmt: skip
    result = _run(["-c", PRINT_AUDIT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    key, checkpoints, _secret = json.loads(result.stdout.strip().splitlines()[-1])
    assert key == "audit-key-from-a-file"
    assert checkpoints == str(tmp_path / "var" / "audit-checkpoints.jsonl")


def test_development_derives_a_stable_audit_chain_key_of_its_own(tmp_path):
    env = _env(tmp_path, AUDIT_CHAIN_KEY="")
    first, second = (
        json.loads(_run(["-c", PRINT_AUDIT_SETTINGS], env).stdout.strip().splitlines()[-1])
        for _ in range(2)
    )
    assert first == second
    key, _checkpoints, secret = first
    assert key
    assert key != secret


def test_production_turns_on_every_protection(tmp_path):
    values = _production_settings(tmp_path)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]
    assert "joinedup.people.middleware.StaffSecurityMiddleware" in values["MIDDLEWARE"]
    assert values["ALLOWED_HOSTS"] == []
    # Rate limits and used codes are counted in one place for every process (see
    # joinedup/operations/tests/test_shared_cache.py).
    assert values["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "joinedup_cache",
    }


def test_development_default_writes_its_own_key_and_leaves_https_off(tmp_path):
    env = _env(tmp_path)
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert (tmp_path / "var" / "secret_key").read_text().strip()


def test_production_passes_the_deployment_checks(tmp_path):
    env = _env(tmp_path, DEBUG="0", SECRET_KEY=PRODUCTION_SECRET, ALLOWED_HOSTS="joinedup.example")
    result = _run(["-m", "joinedup", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("path", ["/accounts/login/", "/"])
def test_responses_carry_a_content_security_policy(db, client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_postgresql_runs_page_queries_without_compiling_them_first(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['options'])"
    )
    env = _env(tmp_path, DEBUG="1", DATABASE_URL="postgres://joinedup@db.invalid:5432/joinedup")
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    assert "jit=off" in result.stdout.split()


@pytest.mark.parametrize("pooled", [False, True])
def test_behind_transaction_pooling_no_cursor_outlives_a_transaction(tmp_path, pooled):
    env = _env(
        tmp_path, DATABASE_URL="postgres://joinedup@pgbouncer:6432/joinedup",
        **({"DATABASE_TRANSACTION_POOLING": "1"} if pooled else {}),
    )  # fmt: skip
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout.strip().splitlines()[-1])["DATABASE"]
    assert database.get("DISABLE_SERVER_SIDE_CURSORS", False) is pooled
    # PgBouncer refuses connection parameters; the role carries them instead.
    assert ("options" in database.get("OPTIONS", {})) is not pooled


def test_the_reports_replica_is_reached_as_the_primary_is(tmp_path):
    env = _env(
        tmp_path, DATABASE_URL="postgres://joinedup@primary/joinedup",
        REPORTS_DATABASE_URL="postgres://joinedup@replica/joinedup",
        DATABASE_CONN_MAX_AGE="600", DATABASE_STATEMENT_TIMEOUT_MS="30000",
    )  # fmt: skip
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    primary, replica = values["DATABASE"], values["REPORTS"]
    assert (primary["HOST"], replica["HOST"]) == ("primary", "replica")
    assert "statement_timeout=30000" in replica["OPTIONS"]["options"]
    for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS"):
        assert replica[key] == primary[key], key
