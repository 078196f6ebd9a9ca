"""A listing made before retention covered more than record entries and messages keeps what
it listed, now named by kind kept, so that an admin can still confirm it."""

import pytest

from joinedup.governance.models import RetentionRun
from joinedup.people.models import Organisation
from joinedup.tests.migrating import back_at, migrate, models_at

BEFORE = ("governance", "0008_chain_checks")


@pytest.fixture
def before_listings_named_kinds(transactional_db):
    with back_at([BEFORE]):
        yield


@pytest.mark.usefixtures("before_listings_named_kinds")
def test_an_earlier_listing_keeps_its_entries_and_messages():
    university = Organisation.objects.create(name="University of Northbridge", kind="university")
    old = models_at([BEFORE])
    OldRun = old.get_model("governance", "RetentionRun")  # noqa: N806 - historical model
    both = OldRun.objects.create(organisation_id=university.pk, entries=[3, 4], messages=[7],
                                 by_category={"notes": 2, "messages": 1}).pk  # fmt: skip
    entries_only = OldRun.objects.create(organisation_id=university.pk, entries=[5]).pk
    migrate([("governance", "0009_retention_listed")])

    listed = dict(RetentionRun.objects.values_list("pk", "listed"))
    assert listed == {both: {"entries": [3, 4], "messages": [7]}, entries_only: {"entries": [5]}}
    assert RetentionRun.objects.get(pk=both).count == 3
