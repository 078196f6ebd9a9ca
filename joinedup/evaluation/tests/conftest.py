"""Fixtures shared by the evaluation tests."""

import pytest
from django.db import connections


@pytest.fixture
def reports_alias(db):
    """Reports and extracts read through the `reports` alias, which mirrors default in tests:
    share default's connection (and so this test's open transaction) while the test runs, so
    those reads see the test's data."""
    original = connections["reports"]
    connections["reports"] = connections["default"]
    yield
    connections["reports"] = original
