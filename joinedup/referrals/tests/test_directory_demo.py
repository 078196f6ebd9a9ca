"""The demo hub's directory: every service has a valid entry that the directory can find."""

import datetime as dt

import pytest

from joinedup.people.models import Service
from joinedup.record.demo import _organisations
from joinedup.referrals.directory.selectors import DirectoryFilters, directory_for
from joinedup.referrals.directory_demo import add_directory_entries

pytestmark = pytest.mark.django_db

WEDNESDAY_NOON = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)


def test_every_demo_service_gets_a_directory_entry():
    entries = add_directory_entries(_organisations())

    assert len(entries) == Service.objects.count() == 11
    assert not Service.objects.filter(directory_entry__isnull=True).exists()


def test_the_demo_directory_answers_the_searches_in_the_issue():
    add_directory_entries(_organisations())

    def names(query="", **filters):
        found = directory_for(query, DirectoryFilters(**filters), WEDNESDAY_NOON)
        return {listing.service.name for listing in found.listings}

    assert "Northbridge Counselling Service" in names("eating")
    assert "Community Mental Health Team" not in names(accepts_self_referral=True)
    assert "Student Peer Support" in names(topics=frozenset({"international students"}))
    assert "Crisis Team" in names(is_open_now=True)
