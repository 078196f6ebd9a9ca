"""The pure access rule, `decide_access`, over every role, category and basis. No database.

The matrix gives, for each role and basis, the categories the rule allows, the basis it
names, and the categories it shows only in part (the user's own service's entries). Each
combination of role, basis and category is one test case.
"""

from dataclasses import replace

import pytest

from joinedup.consent.rules import CATEGORIES, Decision, Facts, Grant, Seat, decide_access

UNIVERSITY, OTHER_UNIVERSITY, TRUST = 1, 2, 3
ORGANISATION_NAMES = {
    UNIVERSITY: "University of Northbridge",
    OTHER_UNIVERSITY: "Southgate University",
    TRUST: "Northbridge NHS Trust",
}
WELLBEING, COUNSELLING, CRISIS, TALKING, LIAISON_SERVICE = 10, 11, 30, 31, 32
HISTORY, PHYSICS = 100, 101

# The Northbridge partnership agreement: everything but adjustments and case notes.
AGREED = frozenset(
    {"identity", "registration", "engagement", "assessment", "risk", "outcomes", "discharge"}
)
ALL = frozenset(CATEGORIES)
NOTHING: frozenset[str] = frozenset()
NOT_NOTES = ALL - {"notes"}
STUDENT_LEVEL = frozenset({"identity", "registration"})
SERVICE_WRITTEN = ALL - STUDENT_LEVEL
# Names and student numbers, and with consent engagement and adjustments (DESIGN.md).
ACADEMIC_MAY_SEE = frozenset({"identity", "engagement", "adjustments"})


def _seat(role, organisation_id, *, service=None, department=None) -> Seat:
    service_id, service_name = service or (None, "")
    department_id, department_name = department or (None, "")
    return Seat(
        role=role,
        organisation_id=organisation_id,
        organisation_name=ORGANISATION_NAMES[organisation_id],
        service_id=service_id,
        service_name=service_name,
        department_id=department_id,
        department_name=department_name,
    )


SEATS = {
    "practitioner": _seat("practitioner", UNIVERSITY, service=(WELLBEING, "Wellbeing")),
    "triage": _seat("triage", TRUST, service=(TALKING, "Talking Therapies")),
    "liaison": _seat("liaison", TRUST, service=(LIAISON_SERVICE, "Student Liaison")),
    "service_manager": _seat("service_manager", UNIVERSITY, service=(WELLBEING, "Wellbeing")),
    "academic": _seat("academic", UNIVERSITY, department=(HISTORY, "History")),
    "org_admin": _seat("org_admin", UNIVERSITY),
    "researcher": _seat("researcher", UNIVERSITY),
}
CRISIS_PRACTITIONER = _seat("practitioner", TRUST, service=(CRISIS, "Crisis Team"))
COUNSELLOR = _seat("practitioner", UNIVERSITY, service=(COUNSELLING, "Counselling"))

BASES = (
    "none",
    "relationship",
    "consent_to_service",
    "consent_to_organisation",
    "consent_to_department",
    "consent_across_organisations_with_agreement",
    "consent_across_organisations_without_agreement",
    "break_glass",
    "student_in_department",
)


def _agreement(org_a, org_b, categories=AGREED, purposes=("direct_care",)):
    low, high = sorted((org_a, org_b))
    return frozenset((low, high, c, p) for c in categories for p in purposes)


def facts_for(role: str, basis: str, category: str, purpose: str = "direct_care") -> Facts:
    """A student of the University of Northbridge, in Physics, with only `basis` in place.

    Consents are for `category` and `purpose`. "Across organisations" puts the student in a
    university other than the recipient's organisation.
    """
    if role == "student":
        return Facts(seats=(), is_self=True, university_id=UNIVERSITY)
    seat = SEATS[role]
    facts = Facts(seats=(seat,), university_id=UNIVERSITY, department_id=PHYSICS)
    service_id = seat.service_id or WELLBEING
    service_org = seat.organisation_id if seat.service_id else UNIVERSITY
    if basis == "relationship":
        return replace(facts, relationships=frozenset({(service_id, service_org)}))
    if basis == "consent_to_service":
        return replace(facts, grants=(Grant(category, purpose, service_id=service_id),))
    if basis == "consent_to_organisation":
        grant = Grant(category, purpose, organisation_id=seat.organisation_id)
        return replace(facts, grants=(grant,))
    if basis == "consent_to_department":
        return replace(facts, grants=(Grant(category, purpose, department_id=HISTORY),))
    if basis.startswith("consent_across_organisations"):
        university = UNIVERSITY if seat.organisation_id != UNIVERSITY else OTHER_UNIVERSITY
        grant = Grant(category, purpose, organisation_id=seat.organisation_id)
        agreements = (
            _agreement(seat.organisation_id, university)
            if basis.endswith("with_agreement")
            else frozenset()
        )
        return replace(facts, university_id=university, grants=(grant,), agreements=agreements)
    if basis == "break_glass":
        return replace(facts, break_glass=True)
    if basis == "student_in_department":
        return replace(facts, department_id=HISTORY)
    assert basis == "none", basis
    return facts


def _clinician(cross_organisation: bool, *, relationship_shows_all: bool = False):
    """Practitioners, triage and liaison staff share one pattern; only where they sit differs."""
    consent = (NOTHING, None) if cross_organisation else (NOT_NOTES, "consent")
    return {
        "none": (NOTHING, None, NOTHING),
        "relationship": (
            ALL,
            "relationship",
            frozenset({"notes"}) if relationship_shows_all else SERVICE_WRITTEN,
        ),
        "consent_to_service": (*consent, NOTHING),
        "consent_to_organisation": (*consent, NOTHING),
        "consent_to_department": (NOTHING, None, NOTHING),
        "consent_across_organisations_with_agreement": (AGREED, "consent", NOTHING),
        "consent_across_organisations_without_agreement": (NOTHING, None, NOTHING),
        "break_glass": (NOT_NOTES, "break_glass", NOTHING),
        "student_in_department": (NOTHING, None, NOTHING),
    }


def _refused_whatever_the_basis():
    return dict.fromkeys(BASES, (NOTHING, None, NOTHING))


# role -> basis -> (categories allowed, basis named, categories shown only in part)
EXPECTED: dict[str, dict[str, tuple[frozenset[str], str | None, frozenset[str]]]] = {
    "student": dict.fromkeys(BASES, (ALL, "self", NOTHING)),
    "practitioner": _clinician(cross_organisation=False),
    "triage": _clinician(cross_organisation=True),
    # A liaison worker bridges the partner services: their own service's relationship shows
    # the whole record bar case notes, which still come only from their own service.
    "liaison": _clinician(cross_organisation=True, relationship_shows_all=True),
    "service_manager": _refused_whatever_the_basis(),
    "academic": {
        "none": (NOTHING, None, NOTHING),
        "relationship": (NOTHING, None, NOTHING),
        "consent_to_service": (NOTHING, None, NOTHING),
        "consent_to_organisation": (ACADEMIC_MAY_SEE, "consent", NOTHING),
        "consent_to_department": (ACADEMIC_MAY_SEE, "consent", NOTHING),
        "consent_across_organisations_with_agreement": (
            ACADEMIC_MAY_SEE & AGREED,
            "consent",
            NOTHING,
        ),
        "consent_across_organisations_without_agreement": (NOTHING, None, NOTHING),
        "break_glass": (NOTHING, None, NOTHING),
        "student_in_department": (frozenset({"identity"}), "department", NOTHING),
    },
    "org_admin": _refused_whatever_the_basis(),
    "researcher": _refused_whatever_the_basis(),
}

MATRIX = [
    pytest.param(role, basis, category, id=f"{role}-{basis}-{category}")
    for role, by_basis in EXPECTED.items()
    for basis in BASES
    for category in CATEGORIES
]


def test_matrix_covers_every_role_and_basis():
    assert set(EXPECTED) == {"student", *SEATS}
    assert all(set(by_basis) == set(BASES) for by_basis in EXPECTED.values())


@pytest.mark.parametrize(("role", "basis", "category"), MATRIX)
def test_access_matrix(role, basis, category):
    allowed, named_basis, partial = EXPECTED[role][basis]
    decision = decide_access(facts_for(role, basis, category), category)

    assert decision.allowed is (category in allowed)
    if decision.allowed:
        assert decision.basis == named_basis
        assert decision.whole is (category not in partial)
    else:
        assert decision.basis == "none"
        assert decision.reason.endswith(".")


ACADEMIC_NEVER = ("assessment", "outcomes", "risk", "notes", "discharge")


@pytest.mark.parametrize("category", ACADEMIC_NEVER)
@pytest.mark.parametrize(
    "grant",
    [
        pytest.param(Grant("", "academic_support", department_id=HISTORY), id="department"),
        pytest.param(Grant("", "academic_support", organisation_id=UNIVERSITY), id="university"),
        pytest.param(Grant("", "direct_care", department_id=HISTORY), id="direct-care"),
    ],
)
def test_academic_never_sees_clinical_categories_even_with_consent(category, grant):
    facts = Facts(
        seats=(SEATS["academic"],),
        university_id=UNIVERSITY,
        department_id=HISTORY,
        grants=(replace(grant, category=category),),
        agreements=_agreement(UNIVERSITY, TRUST, ALL, ("direct_care", "academic_support")),
        break_glass=True,
    )

    decision = decide_access(facts, category, grant.purpose)

    assert not decision.allowed
    verb = "are" if category.endswith("s") else "is"
    assert decision.reason == f"{category.capitalize()} {verb} never shown to academic staff."


@pytest.mark.parametrize(
    ("seat", "facts"),
    [
        pytest.param(
            CRISIS_PRACTITIONER,
            Facts(
                seats=(CRISIS_PRACTITIONER,),
                university_id=UNIVERSITY,
                grants=(Grant("notes", "direct_care", service_id=CRISIS),),
                agreements=_agreement(UNIVERSITY, TRUST, ALL),
            ),
            id="consent-to-service-with-agreement",
        ),
        pytest.param(
            COUNSELLOR,
            Facts(
                seats=(COUNSELLOR,),
                university_id=UNIVERSITY,
                grants=(Grant("notes", "direct_care", organisation_id=UNIVERSITY),),
            ),
            id="consent-to-own-organisation",
        ),
        pytest.param(
            COUNSELLOR,
            Facts(seats=(COUNSELLOR,), university_id=UNIVERSITY, break_glass=True),
            id="break-glass",
        ),
        pytest.param(
            SEATS["liaison"],
            Facts(
                seats=(SEATS["liaison"],),
                university_id=UNIVERSITY,
                relationships=frozenset({(WELLBEING, UNIVERSITY)}),
                agreements=_agreement(UNIVERSITY, TRUST, ALL),
                break_glass=True,
            ),
            id="liaison-with-partner-relationship",
        ),
    ],
)
def test_notes_never_leave_the_service_by_consent_or_break_glass(seat, facts):
    decision = decide_access(facts, "notes")

    assert not decision.allowed
    assert decision.reason == "Notes stay with the service that wrote them."


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ("researcher", "Researchers see anonymised aggregates only, never a record."),
        ("org_admin", "Organisation admins do not see the content of student records."),
        (
            "service_manager",
            "Service managers see aggregate reports; a student's record needs a practitioner role.",
        ),
    ],
)
def test_researchers_org_admins_and_service_managers_are_refused_even_with_every_basis(
    role, reason, category
):
    seat = SEATS[role]
    facts = Facts(
        seats=(seat,),
        university_id=UNIVERSITY,
        department_id=HISTORY,
        relationships=frozenset({(WELLBEING, UNIVERSITY)}),
        grants=(
            Grant(category, "direct_care", service_id=WELLBEING),
            Grant(category, "direct_care", organisation_id=UNIVERSITY),
        ),
        break_glass=True,
    )

    decision = decide_access(facts, category)

    assert not decision.allowed
    assert decision.reason == reason


@pytest.mark.parametrize(
    ("seat", "grant_purpose", "asked_purpose", "relationship", "allowed"),
    [
        pytest.param(SEATS["practitioner"], "direct_care", "direct_care", False, True, id="same"),
        pytest.param(
            SEATS["practitioner"],
            "direct_care",
            "academic_support",
            False,
            False,
            id="direct-care-consent-for-academic-support",
        ),
        pytest.param(
            SEATS["academic"],
            "academic_support",
            "academic_support",
            False,
            True,
            id="academic-support-consent",
        ),
        pytest.param(
            SEATS["academic"],
            "academic_support",
            "direct_care",
            False,
            False,
            id="academic-support-consent-for-direct-care",
        ),
        pytest.param(
            SEATS["practitioner"],
            None,
            "academic_support",
            True,
            False,
            id="care-relationship-only-for-direct-care",
        ),
    ],
)
def test_purpose_must_match(seat, grant_purpose, asked_purpose, relationship, allowed):
    grants = (
        (Grant("adjustments", grant_purpose, organisation_id=UNIVERSITY),) if grant_purpose else ()
    )
    relationships = (
        frozenset({(seat.service_id, seat.organisation_id)}) if relationship else frozenset()
    )
    facts = Facts(
        seats=(seat,), university_id=UNIVERSITY, grants=grants, relationships=relationships
    )

    assert decide_access(facts, "adjustments", asked_purpose).allowed is allowed


def test_agreement_must_cover_the_purpose_across_organisations():
    facts = Facts(
        seats=(CRISIS_PRACTITIONER,),
        university_id=UNIVERSITY,
        grants=(Grant("risk", "academic_support", service_id=CRISIS),),
        agreements=_agreement(UNIVERSITY, TRUST, ALL, ("direct_care",)),
    )

    decision = decide_access(facts, "risk", "academic_support")

    assert not decision.allowed
    assert "no data sharing agreement" in decision.reason


@pytest.mark.parametrize(
    ("grant", "category"),
    [
        pytest.param(Grant("risk", "direct_care", service_id=CRISIS), "outcomes", id="category"),
        pytest.param(
            Grant("risk", "direct_care", service_id=TALKING), "risk", id="another-service"
        ),
        pytest.param(
            Grant("risk", "direct_care", organisation_id=UNIVERSITY), "risk", id="another-org"
        ),
        pytest.param(
            Grant("risk", "direct_care", department_id=HISTORY), "risk", id="a-department"
        ),
    ],
)
def test_consent_opens_only_its_own_category_and_recipient(grant, category):
    facts = Facts(
        seats=(CRISIS_PRACTITIONER,),
        university_id=UNIVERSITY,
        grants=(grant,),
        agreements=_agreement(UNIVERSITY, TRUST),
    )

    assert not decide_access(facts, category).allowed


@pytest.mark.parametrize(
    ("seat", "facts", "category", "reason"),
    [
        pytest.param(
            CRISIS_PRACTITIONER,
            Facts(seats=(CRISIS_PRACTITIONER,), university_id=UNIVERSITY),
            "risk",
            "Risk is not shared with Crisis Team: no consent.",
            id="no-consent",
        ),
        pytest.param(
            SEATS["academic"],
            Facts(seats=(SEATS["academic"],), university_id=UNIVERSITY),
            "adjustments",
            "Adjustments are not shared with History: no consent.",
            id="academic-no-consent",
        ),
        pytest.param(
            SEATS["academic"],
            Facts(seats=(SEATS["academic"],), university_id=UNIVERSITY),
            "risk",
            "Risk is never shown to academic staff.",
            id="academic-never",
        ),
        pytest.param(
            COUNSELLOR,
            Facts(seats=(COUNSELLOR,), university_id=UNIVERSITY),
            "notes",
            "Notes stay with the service that wrote them.",
            id="notes",
        ),
        pytest.param(
            CRISIS_PRACTITIONER,
            Facts(
                seats=(CRISIS_PRACTITIONER,),
                university_id=UNIVERSITY,
                grants=(Grant("adjustments", "direct_care", service_id=CRISIS),),
                agreements=_agreement(UNIVERSITY, TRUST),
            ),
            "adjustments",
            "Adjustments: the student consents, but no data sharing agreement between "
            "Northbridge NHS Trust and the student's university covers it.",
            id="no-agreement",
        ),
        pytest.param(
            None,
            Facts(seats=(), university_id=UNIVERSITY),
            "identity",
            "You have no role in any service or department.",
            id="no-role",
        ),
        pytest.param(
            None,
            Facts(seats=(), is_self=True, university_id=UNIVERSITY),
            "notes",
            "This is your own record.",
            id="self",
        ),
    ],
)
def test_reasons_are_plain_words(seat, facts, category, reason):
    decision = decide_access(facts, category)

    assert decision.reason == reason
    assert decision.seat == seat
    assert "_" not in decision.reason


def test_care_relationship_shows_only_own_service_entries_and_says_why():
    facts = Facts(
        seats=(SEATS["practitioner"],),
        university_id=UNIVERSITY,
        relationships=frozenset({(WELLBEING, UNIVERSITY)}),
    )

    decision = decide_access(facts, "risk")

    assert decision == Decision(
        True,
        "relationship",
        "Wellbeing is involved in the student's care and reads what it wrote itself.",
        SEATS["practitioner"],
        whole=False,
        limit="Risk from other services is not shared with Wellbeing: no consent.",
        services=frozenset({WELLBEING}),
    )


def test_consent_on_top_of_a_care_relationship_shows_the_whole_category():
    facts = Facts(
        seats=(SEATS["practitioner"],),
        university_id=UNIVERSITY,
        relationships=frozenset({(WELLBEING, UNIVERSITY)}),
        grants=(Grant("risk", "direct_care", service_id=WELLBEING),),
    )

    decision = decide_access(facts, "risk")

    assert (decision.allowed, decision.basis, decision.whole) == (True, "consent", True)


def test_a_user_with_two_seats_gets_the_seat_that_shows_the_whole_category():
    practitioner = SEATS["practitioner"]
    facts = Facts(
        seats=(SEATS["academic"], practitioner, COUNSELLOR),
        university_id=UNIVERSITY,
        relationships=frozenset({(WELLBEING, UNIVERSITY)}),
        grants=(Grant("assessment", "direct_care", service_id=COUNSELLING),),
    )

    decision = decide_access(facts, "assessment")

    assert (decision.allowed, decision.whole, decision.seat) == (True, True, COUNSELLOR)


def test_a_refusal_for_two_seats_gives_the_reason_of_the_clinical_seat():
    facts = Facts(seats=(SEATS["researcher"], CRISIS_PRACTITIONER), university_id=UNIVERSITY)

    decision = decide_access(facts, "risk")

    assert decision.reason == "Risk is not shared with Crisis Team: no consent."


def test_unknown_category_is_an_error():
    with pytest.raises(ValueError, match="Unknown data category"):
        decide_access(Facts(seats=(SEATS["practitioner"],)), "diary")


def test_unknown_role_gives_no_access():
    seat = _seat("porter", UNIVERSITY, service=(WELLBEING, "Wellbeing"))
    facts = Facts(
        seats=(seat,), university_id=UNIVERSITY, relationships=frozenset({(WELLBEING, UNIVERSITY)})
    )

    assert not decide_access(facts, "identity").allowed
