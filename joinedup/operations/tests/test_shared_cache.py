"""The cache every server process shares: what one process counts (a wrong password, a
second-factor code used), another reads, so five workers never allow five times as much."""

import importlib

import pytest
from django.core.cache.backends.db import DatabaseCache

pytestmark = pytest.mark.django_db


def process_cache() -> DatabaseCache:
    """The cache as a server process builds it from the production settings."""
    from joinedup import settings

    [(name, options)] = [(each["LOCATION"], each) for each in settings.CACHES.values()]
    return DatabaseCache(name, options)


def test_what_one_process_counts_another_reads():
    first, second = process_cache(), process_cache()
    assert first is not second
    first.set("login_failed:someone", 4, 300)
    assert second.incr("login_failed:someone") == 5
    assert first.get("login_failed:someone") == 5
    assert second.add("mfa:code-used", True, 60)
    assert not first.add("mfa:code-used", True, 60)  # a code is accepted once


def test_the_migrations_make_the_cache_table():
    module = importlib.import_module("joinedup.operations.migrations.0002_shared_cache")
    assert process_cache()._table == module.TABLE
