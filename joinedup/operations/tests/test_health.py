"""Liveness and readiness, as a load balancer asks: JSON, 200 when ready, 503 when not."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_alive_and_ready_answer_anyone_in_json():
    live = Client().get("/health/live")
    assert live.status_code == 200
    assert live.json() == {}
    ready = Client().get("/health/ready", headers={"accept": "text/html"})
    assert ready.status_code == 200
    assert ready.json() == {
        "Database(alias='default')": "OK",
        "Cache(alias='default')": "OK",
        "Storage(alias='default')": "OK",
    }


def test_not_ready_when_the_cache_does_not_keep_what_it_is_given(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    ready = Client().get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["Cache(alias='default')"] != "OK"
    assert ready.json()["Database(alias='default')"] == "OK"


def test_not_ready_when_the_database_is_away_and_says_no_more_than_that(monkeypatch, caplog):
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    secret = 'connection to server at "10.0.0.5", port 6432 failed: password for user "hub"'

    def refused(*args, **kwargs):
        raise OperationalError(secret)

    monkeypatch.setattr(CursorWrapper, "execute", refused)
    ready = Client().get("/health/ready")
    assert ready.status_code == 503
    said = ready.json()["Database(alias='default')"]
    assert said == "Unavailable: the database cannot be reached"
    assert "10.0.0.5" in caplog.text
