"""A listing made before retention covered more than record entries and messages keeps what
it listed, now named by kind kept, so that an admin can still confirm it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from joinedup.governance.models import RetentionRun
from joinedup.people.models import Organisation

BEFORE = ("governance", "0008_chain_checks")


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def before_listings_named_kinds(transactional_db):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate([BEFORE])
    try:
        yield
    finally:
        _migrate(latest)


@pytest.mark.usefixtures("before_listings_named_kinds")
def test_an_earlier_listing_keeps_its_entries_and_messages():
    university = Organisation.objects.create(name="University of Northbridge", kind="university")
    old = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
    OldRun = old.get_model("governance", "RetentionRun")  # noqa: N806 - historical model
    both = OldRun.objects.create(organisation_id=university.pk, entries=[3, 4], messages=[7],
                                 by_category={"notes": 2, "messages": 1}).pk  # fmt: skip
    entries_only = OldRun.objects.create(organisation_id=university.pk, entries=[5]).pk
    _migrate([("governance", "0009_retention_listed")])

    listed = dict(RetentionRun.objects.values_list("pk", "listed"))
    assert listed == {both: {"entries": [3, 4], "messages": [7]}, entries_only: {"entries": [5]}}
    assert RetentionRun.objects.get(pk=both).count == 3
