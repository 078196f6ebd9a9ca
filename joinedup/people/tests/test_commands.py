"""The `joinedup` console command: manage.py under the project's own name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from joinedup.__main__ import main

BASE_DIR = Path(settings.BASE_DIR)


def test_main_runs_the_system_check(db, monkeypatch, capsys):
    # The JSONField check asks the database what it supports, hence `db`. The reports alias
    # is the same database in tests, and opening it beside a test transaction would lock.
    monkeypatch.setattr(sys, "argv", ["joinedup", "check", "--database", "default"])
    main()
    assert "System check identified no issues" in capsys.readouterr().out


def test_main_lists_the_project_commands(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["joinedup", "help"])
    main()
    out = capsys.readouterr().out
    assert "[audit]" in out
    assert "verify_audit" in out


def test_main_fails_on_an_unknown_command(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["joinedup", "no_such_command"])
    with pytest.raises(SystemExit) as excinfo:
        main()
    assert excinfo.value.code == 1
    assert "Unknown command: 'no_such_command'" in capsys.readouterr().err


def test_python_dash_m_joinedup_runs_check(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(JOINEDUP_VAR_DIR=str(tmp_path), PYTHONPATH=str(BASE_DIR))
    result = subprocess.run(
        [sys.executable, "-m", "joinedup", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
