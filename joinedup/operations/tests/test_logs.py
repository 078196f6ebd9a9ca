"""Each request's log line, and every line written during it, carries the request id the
audit log records; in production the lines are JSON."""

import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import Client

from joinedup.lib.logs import RequestIdFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    """The JSON lines the production log configuration writes for requests."""
    config = settings.LOGGING["formatters"]["json"]
    formatter = logging.config.DictConfigurator({}).configure_custom(dict(config))
    written = []

    class Keep(logging.Handler):
        def emit(self, record):
            written.append(json.loads(formatter.format(record)))

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("joinedup.request")
    logger.addHandler(handler)
    yield written
    logger.removeHandler(handler)


def test_each_request_writes_one_json_line_with_its_id(lines, hub):
    response = Client().get("/accessibility/?q=Jane+Doe", headers={"x-request-id": "proxy-42.a_b"})
    assert response["X-Request-Id"] == "proxy-42.a_b"
    [line] = lines
    assert line["request_id"] == "proxy-42.a_b"
    assert line["logger"] == "joinedup.request"
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/accessibility/", 200)
    assert line["user_id"] is None
    assert line["ms"] >= 0
    assert "Jane" not in json.dumps(line)  # never the query string


def test_a_signed_in_request_names_the_user_by_id(lines, hub, client):
    client.force_login(hub.practitioner)
    client.get("/accessibility/")
    assert lines[-1]["user_id"] == hub.practitioner.pk


def test_an_id_that_could_forge_a_line_is_replaced(lines):
    response = Client().get("/accessibility/", headers={"x-request-id": 'x"\n{"level":"ERROR'})
    assert response["X-Request-Id"] != 'x"\n{"level":"ERROR'
    assert len(response["X-Request-Id"]) == 32
    assert lines[-1]["request_id"] == response["X-Request-Id"]


def test_lines_outside_a_request_have_an_empty_id(lines):
    logging.getLogger("joinedup.request").info("scheduler line")
    assert lines[-1]["request_id"] == ""
