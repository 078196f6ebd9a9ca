"""Academic staff never see assessment, outcomes, risk, notes or discharge, on any page,
whatever the student consents to. Every URL of the project is tried."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from joinedup.consent.rules import CATEGORIES
from joinedup.consent.tests.factories import give_consent
from joinedup.measures.tests.factories import PHQ9_ITEM9, record, start_episode
from joinedup.record.models import RecordEntry
from joinedup.referrals import services as referrals
from joinedup.risk import concerns, services
from joinedup.risk.models import Flag

CLINICAL = ("assessment", "outcomes", "risk", "notes", "discharge")


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _patterns(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}", sorted(pattern.pattern.converters)


@pytest.fixture
def everything(hub):
    """Clinical data in every category, every consent to the academic's department, and a
    concern the academic raised, so that each page has something it could leak."""
    for category in CLINICAL:
        RecordEntry.objects.create(student=hub.student, category=category, service=hub.wellbeing,
                                   author=hub.practitioner, title=f"SECRET-{category}",
                                   body=f"SECRET body of {category}")  # fmt: skip
    episode = start_episode(hub)
    administration = record(episode, hub.practitioner, answers=PHQ9_ITEM9)
    services.record_assessment(actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
                               domain_levels={"self": 3}, factors="SECRET factors",
                               plan="SECRET plan", review_on=timezone.localdate())  # fmt: skip
    referral = referrals.create_referral(actor=hub.practitioner, student=hub.student,
                                         from_service=hub.wellbeing, to_service=hub.talking,
                                         source="service", reason="SECRET reason")  # fmt: skip
    for category in CATEGORIES:
        for purpose in ("direct_care", "academic_support"):
            give_consent(hub, category, hub.history, purpose=purpose)
    # What the academic observed is theirs: the concern shows it back to them.
    concern, _ = concerns.raise_concern(reporter=hub.academic, student=hub.student,
                                        observed="Tearful in seminars.", urgency="soon",
                                        student_knows="yes", student_agreed=True)  # fmt: skip
    return {
        "student_uuid": hub.student.uuid,
        "referral_uuid": referral.uuid,
        "concern_uuid": concern.uuid,
        "episode_uuid": episode.uuid,
        "flag_uuid": Flag.objects.get().uuid,
        "service_uuid": hub.wellbeing.uuid,
        "code": "PHQ-9",
        "action": "message",
        "administration": administration,
    }


def test_no_page_shows_an_academic_clinical_data(hub, client, everything):
    client.force_login(hub.academic)
    tried = 0
    for name, params in _patterns():
        if name.startswith(("admin:", "account_", "mfa_")) or "token" in params:
            continue
        if not all(p in everything for p in params):
            continue
        url = reverse(name, kwargs={p: everything[p] for p in params})
        html = client.get(url).content.decode()
        tried += 1
        assert "SECRET" not in html, f"{name} leaks clinical data to an academic"
        assert "PHQ-9 risk item" not in html, name
    assert tried >= 20
