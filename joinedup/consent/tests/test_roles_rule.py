"""The access rule for liaison and academic staff, as a table of cases (DESIGN.md, "The access
policy"): liaison staff act as practitioners, a relationship with their own service or the
student's consent first, across the partner services an agreement names; academic staff see
the names and student numbers of their department's students and, with consent, that the
student is supported and their adjustments, nothing more. No database."""

import pytest

from joinedup.consent.rules import (
    CATEGORIES,
    NAMES_ONLY,
    SUPPORTED_ONLY,
    Facts,
    Grant,
    decide_access,
    reason_has_substance,
)
from joinedup.consent.tests.test_rules import (
    AGREED,
    CRISIS,
    HISTORY,
    LIAISON_SERVICE,
    OTHER_UNIVERSITY,
    PHYSICS,
    SEATS,
    TRUST,
    UNIVERSITY,
    WELLBEING,
    _agreement,
)

LIAISON = SEATS["liaison"]
ACADEMIC = SEATS["academic"]
OWN = (LIAISON_SERVICE, TRUST)
CRISIS_TEAM = (CRISIS, TRUST)
UNI_WELLBEING = (WELLBEING, UNIVERSITY)
ELSEWHERE = (20, OTHER_UNIVERSITY)
PARTNERSHIP = _agreement(UNIVERSITY, TRUST)


def liaison_facts(*, relationships=(), involved=(), grants=(), agreements=PARTNERSHIP, **more):
    return Facts(
        seats=(LIAISON,),
        university_id=UNIVERSITY,
        relationships=frozenset(relationships),
        involved=frozenset(involved),
        grants=tuple(grants),
        agreements=agreements,
        **more,
    )


# (case, facts, category, allowed, basis, whole)
LIAISON_CASES = [
    ("crisis-team-involved-only", liaison_facts(relationships=[CRISIS_TEAM]), "risk",
     False, "none", True),
    ("university-service-involved-only", liaison_facts(relationships=[UNI_WELLBEING]),
     "assessment", False, "none", True),
    ("crisis-team-involved-only-identity", liaison_facts(relationships=[CRISIS_TEAM]),
     "identity", False, "none", True),
    ("own-relationship-partners-only", liaison_facts(relationships=[OWN, CRISIS_TEAM,
     UNI_WELLBEING]), "risk", True, "relationship", True),
    ("own-relationship-closed-partner-counts", liaison_facts(relationships=[OWN],
     involved=[OWN, CRISIS_TEAM]), "assessment", True, "relationship", True),
    ("own-relationship-non-partner-involved", liaison_facts(relationships=[OWN, ELSEWHERE]),
     "risk", True, "relationship", False),
    ("own-relationship-category-outside-agreement", liaison_facts(relationships=[OWN,
     UNI_WELLBEING]), "adjustments", True, "relationship", False),
    ("own-relationship-no-agreement", liaison_facts(relationships=[OWN, UNI_WELLBEING],
     agreements=frozenset()), "risk", True, "relationship", False),
    ("own-relationship-notes", liaison_facts(relationships=[OWN, CRISIS_TEAM]), "notes",
     True, "relationship", False),
    ("consent-to-liaison-service", liaison_facts(grants=[Grant("risk", "direct_care",
     service_id=LIAISON_SERVICE)]), "risk", True, "consent", True),
    ("consent-to-the-trust", liaison_facts(grants=[Grant("risk", "direct_care",
     organisation_id=TRUST)]), "risk", True, "consent", True),
    ("consent-to-crisis-team-only", liaison_facts(relationships=[CRISIS_TEAM], grants=[
     Grant("risk", "direct_care", service_id=CRISIS)]), "risk", False, "none", True),
    ("consent-to-liaison-notes", liaison_facts(grants=[Grant("notes", "direct_care",
     service_id=LIAISON_SERVICE)]), "notes", False, "none", True),
    ("break-glass", liaison_facts(break_glass=True), "risk", True, "break_glass", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "category", "allowed", "basis", "whole"),
    [pytest.param(*case[1:], id=case[0]) for case in LIAISON_CASES],
)
def test_liaison_rule(facts, category, allowed, basis, whole):
    decision = decide_access(facts, category)
    assert (decision.allowed, decision.basis, decision.whole) == (allowed, basis, whole)


def test_liaison_partial_view_says_why():
    facts = liaison_facts(relationships=[OWN, ELSEWHERE])
    decision = decide_access(facts, "risk")
    assert decision.limit == (
        "Risk from other services is not shared with Student Liaison: no consent."
    )


def academic_facts(*, department=HISTORY, grants=(), agreements=frozenset()):
    return Facts(
        seats=(ACADEMIC,),
        university_id=UNIVERSITY,
        department_id=department,
        relationships=frozenset({UNI_WELLBEING, CRISIS_TEAM}),
        grants=tuple(grants),
        agreements=agreements,
    )


def _support(category, **recipient):
    return Grant(category, "academic_support", **recipient)


# (case, facts, category, purpose, allowed, basis, scope)
ACADEMIC_CASES = [
    ("own-department-names", academic_facts(), "identity", "direct_care", True,
     "department", NAMES_ONLY),
    ("other-department", academic_facts(department=PHYSICS), "identity", "direct_care",
     False, "none", ""),
    ("own-department-registration", academic_facts(), "registration", "direct_care", False,
     "none", ""),
    ("registration-even-with-consent", academic_facts(grants=[_support("registration",
     department_id=HISTORY)]), "registration", "academic_support", False, "none", ""),
    ("engagement-without-consent", academic_facts(), "engagement", "academic_support",
     False, "none", ""),
    ("engagement-with-department-consent", academic_facts(grants=[_support("engagement",
     department_id=HISTORY)]), "engagement", "academic_support", True, "consent",
     SUPPORTED_ONLY),
    ("adjustments-with-university-consent", academic_facts(grants=[_support("adjustments",
     organisation_id=UNIVERSITY)]), "adjustments", "academic_support", True, "consent", ""),
    ("adjustments-consent-to-a-service", academic_facts(grants=[_support("adjustments",
     service_id=WELLBEING)]), "adjustments", "academic_support", False, "none", ""),
    ("risk-with-consent", academic_facts(grants=[_support("risk", department_id=HISTORY)]),
     "risk", "academic_support", False, "none", ""),
    *[
        (f"{category}-never", academic_facts(grants=[_support(category,
         department_id=HISTORY)], agreements=_agreement(UNIVERSITY, TRUST, AGREED,
         ("academic_support",))), category, "academic_support", False, "none", "")
        for category in ("assessment", "outcomes", "risk", "notes", "discharge")
    ],
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "category", "purpose", "allowed", "basis", "scope"),
    [pytest.param(*case[1:], id=case[0]) for case in ACADEMIC_CASES],
)
def test_academic_rule(facts, category, purpose, allowed, basis, scope):
    decision = decide_access(facts, category, purpose)
    assert (decision.allowed, decision.basis, decision.scope) == (allowed, basis, scope)


def test_academic_may_only_ever_see_names_engagement_and_adjustments():
    consent_to_everything = academic_facts(
        grants=[_support(c, department_id=HISTORY) for c in CATEGORIES]
    )
    allowed = {
        c for c in CATEGORIES if decide_access(consent_to_everything, c, "academic_support").allowed
    }
    assert allowed == {"identity", "engagement", "adjustments"}


@pytest.mark.parametrize(
    ("reason", "has_substance"),
    [
        ("Called 999; risk to life.", True),
        ("Student disclosed a plan tonight and cannot be reached.", True),
        ("aaaaaaaaaa", False),
        ("urgent urgent urgent urgent", False),
        ("a a a a a a a a a a a a", False),
        ("1234567890 1234567890", False),
        ("risk to life", False),
        ("", False),
    ],
)
def test_an_override_reason_must_say_something(reason, has_substance):
    assert reason_has_substance(reason) is has_substance
