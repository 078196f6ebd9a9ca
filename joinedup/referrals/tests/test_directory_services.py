"""Writing a directory entry: one audited service function, all or nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from joinedup.audit.models import AuditEvent
from joinedup.referrals.directory.services import update_directory_entry
from joinedup.referrals.models import DirectoryEntry

REQUIRED = {"purpose": "Short-term wellbeing support.", "who_for": "Any student."}


def audited() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="referrals.directory.updated"))


def test_an_org_admin_writes_an_entry_and_the_change_is_audited(hub):
    entry = update_directory_entry(
        actor=hub.org_admin,
        service=hub.wellbeing,
        **REQUIRED,
        accepts_referrals_from=["self", "gp"],
        opening_hours={"0": [["09:00", "17:00"]]},
        topics=["Anxiety", " international  students", "anxiety", ""],
    )

    entry.refresh_from_db()
    assert entry.accepts_self_referral is True
    assert entry.topics == ["anxiety", "international students"]
    assert entry.updated_by == hub.org_admin
    [event] = audited()
    assert (event.actor, event.student, event.reason) == (hub.org_admin, None, "Wellbeing")
    assert (event.actor_role, event.actor_organisation) == ("org_admin", hub.university.name)


def test_a_later_change_updates_only_the_values_given(hub):
    update_directory_entry(actor=hub.org_admin, service=hub.wellbeing, **REQUIRED, phone="999")

    update_directory_entry(
        actor=hub.org_admin, service=hub.wellbeing, accepts_referrals_from=["service"]
    )

    entry = DirectoryEntry.objects.get(service=hub.wellbeing)
    assert (entry.purpose, entry.phone) == (REQUIRED["purpose"], "999")
    assert entry.accepts_self_referral is False
    assert len(audited()) == 2


@pytest.mark.parametrize("who", ["practitioner", "service_manager", "academic", "outsider",
                                 "student_user"])  # fmt: skip
def test_only_an_admin_of_the_services_organisation_may_write_its_entry(hub, who):
    with pytest.raises(PermissionDenied):
        update_directory_entry(actor=getattr(hub, who), service=hub.wellbeing, **REQUIRED)

    assert not DirectoryEntry.objects.exists()
    assert audited() == []


def test_an_admin_may_not_write_another_organisations_entry(hub):
    with pytest.raises(PermissionDenied):
        update_directory_entry(actor=hub.org_admin, service=hub.crisis, **REQUIRED)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"opening_hours": {"0": [["09:00", "25:00"]]}}, "opening_hours", id="hours"),
        pytest.param({"opening_hours": {"monday": []}}, "opening_hours", id="weekday"),
        pytest.param({"phone": "ring us"}, "phone", id="phone"),
        pytest.param({"email": "not an address"}, "email", id="email"),
        pytest.param({"accepts_referrals_from": ["fax"]}, "accepts_referrals_from", id="source"),
        pytest.param({"purpose": ""}, "purpose", id="no-purpose"),
    ],
)
def test_a_bad_value_saves_nothing_and_audits_nothing(hub, values, field):
    update_directory_entry(actor=hub.org_admin, service=hub.wellbeing, **REQUIRED, phone="111")

    with pytest.raises(ValidationError) as raised:
        update_directory_entry(
            actor=hub.org_admin, service=hub.wellbeing, who_for="Changed.", **values
        )

    assert field in raised.value.message_dict
    entry = DirectoryEntry.objects.get(service=hub.wellbeing)
    assert (entry.who_for, entry.phone) == (REQUIRED["who_for"], "111")
    assert len(audited()) == 1


def test_only_directory_fields_may_be_written(hub):
    with pytest.raises(TypeError, match="service"):
        update_directory_entry(actor=hub.org_admin, service=hub.wellbeing, service_id=3)


@pytest.mark.parametrize(
    ("sources", "source", "takes"),
    [
        pytest.param(["self", "gp"], "self", True, id="self"),
        pytest.param(["self", "gp"], "gp", True, id="gp"),
        pytest.param(["self", "gp"], "academic", False, id="not-academic"),
        pytest.param([], "service", False, id="none"),
    ],
)
def test_an_entry_says_which_kinds_of_referral_it_takes(sources, source, takes):
    assert DirectoryEntry(accepts_referrals_from=sources).takes(source) is takes


def test_self_referral_flag_follows_the_sources_on_every_save(hub):
    entry = DirectoryEntry.objects.create(service=hub.wellbeing, **REQUIRED)
    assert entry.accepts_self_referral is False

    entry.accepts_referrals_from = ["self"]
    entry.save(update_fields=["accepts_referrals_from"])

    entry.refresh_from_db()
    assert entry.accepts_self_referral is True
