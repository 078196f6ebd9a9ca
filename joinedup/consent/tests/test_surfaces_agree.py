"""Every surface tells the same truth about a student's consent, before and after each
withdrawal: the state the student's consent page shows for a recipient, the preview of what
that recipient sees, the recipient's own record page, the JSON API and FHIR.

For random care relationships, consents (to a service, an organisation or the department,
for each category and purpose) and data sharing agreements, Counselling writes something of
every category; each other service in the student's care, and the student's department,
must see it on every surface exactly when the consent page says it is shared with them.
"""

import json
import re
from contextlib import contextmanager

from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauth2_provider.models import AccessToken

from conftest import SignedInClient, make_student
from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.fhir.services import create_client
from joinedup.measures.services import record_administration
from joinedup.people.models import Role, User
from joinedup.portal.selectors import SHAREABLE
from joinedup.record.models import RecordEntry
from joinedup.risk.services import level_of_rank, raise_flag

# The services that may be in the student's care besides Counselling (which writes), each
# with the member of staff who reads for it and the role its partner system acts in.
READERS = {
    "wellbeing": ("practitioner", Role.PRACTITIONER),
    "crisis": ("crisis_practitioner", Role.PRACTITIONER),
    "talking": ("triage", Role.TRIAGE),
    "liaison_service": ("liaison", Role.LIAISON),
}
RECIPIENTS = ("wellbeing", "crisis", "talking", "liaison_service", "university", "trust")
DEPARTMENT_CATEGORIES = ("engagement", "adjustments")
WRITTEN = (*SHAREABLE, "adjustments")

situations = st.fixed_dictionaries(
    {
        "in_care": st.sets(st.sampled_from(tuple(READERS)), min_size=1, max_size=3),
        "grants": st.lists(
            st.one_of(
                st.tuples(
                    st.sampled_from(SHAREABLE), st.sampled_from(RECIPIENTS), st.just("direct_care")
                ),
                st.tuples(
                    st.sampled_from(DEPARTMENT_CATEGORIES),
                    st.sampled_from(("history", "university")),
                    st.just("academic_support"),
                ),
            ),
            max_size=5,
        ),
        "agreement": st.sets(st.sampled_from(("identity", *SHAREABLE))),
        "withdrawal_order": st.randoms(use_true_random=False),
    }
)


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def mark(category: str) -> str:
    return f"[counselling-wrote-{category}]"


def build(hub, situation):
    student_user = User.objects.create_user("surfaces@student.nb.ac.uk")
    student = make_student(hub.university, "SURF0001", department=hub.history, user=student_user)
    hub.agreement.categories = sorted(situation["agreement"])
    hub.agreement.save()
    open_care_relationship(student=student, service=hub.counselling, reason="episode")
    for name in sorted(situation["in_care"]):
        open_care_relationship(student=student, service=getattr(hub, name), reason="episode")
    RecordEntry.objects.bulk_create(
        RecordEntry(
            student=student,
            category=category,
            service=hub.counselling,
            author=hub.counsellor,
            title=mark(category),
            body="Written by Counselling.",
        )
        for category in WRITTEN
    )
    answers = record_administration(
        actor=hub.counsellor, student=student, service=hub.counselling, code="GAD-7",
        answers=[1, 1, 1, 1, 1, 1, 1], method="in_session",
    )  # fmt: skip
    flag = raise_flag(
        student=student, service=hub.counselling, actor=hub.counsellor,
        level=level_of_rank(2), source="practitioner", reason="Counselling's worry.",
    )  # fmt: skip
    for category, recipient, purpose in situation["grants"]:
        give_consent(
            hub, category, getattr(hub, recipient), student=student, purpose=purpose,
            actor=student_user, how_given="portal",
        )  # fmt: skip
    return student, student_user, {"outcomes": str(answers.uuid), "risk": str(flag.uuid)}


def consent_page_states(client, student_user) -> dict:
    """{(card heading, category): state} as the student's consent page shows them."""
    client.force_login(student_user)
    html = client.get(reverse("portal:consents")).content.decode()
    states = {}
    for card in html.split('<section class="nhsuk-card"')[1:]:
        heading = re.search(r"<h2[^>]*>([^<]+)", card).group(1).strip()
        for category, state in re.findall(r'data-toggle="(\w+)" data-state="(\w+)"', card):
            states[heading, category] = state
    return states


def partner_systems(hub) -> dict[str, HttpClient]:
    """A FHIR client of each reading service, acting in the role its staff read in."""
    clients = {}
    for name, (_member, role) in READERS.items():
        application, _secret = create_client(
            service=getattr(hub, name), name=f"{name} system", scopes=["system/*.read"], role=role
        )
        token = AccessToken.objects.create(
            application=application, token=f"t-{application.client_id}", scope="system/*.read",
            expires="2999-01-01T00:00:00Z",
        )  # fmt: skip
        clients[name] = HttpClient(headers={"Authorization": f"Bearer {token.token}"})
    return clients


def fhir_ids(system: HttpClient, student) -> set[str]:
    response = system.get(f"/fhir/Patient/{student.uuid}/$everything")
    assert response.status_code == 200, response.content
    return {e["resource"].get("id") for e in response.json()["entry"]}


def check_every_surface(hub, client, systems, student, student_user, rows):
    states = consent_page_states(client, student_user)
    for name in sorted({n for n in READERS if (getattr(hub, n).name, "risk") in states}):
        service = getattr(hub, name)
        preview = client.get(reverse("portal:consent-preview", args=[service.uuid]))
        staff = SignedInClient()
        staff.force_login(getattr(hub, READERS[name][0]))
        page = staff.get(reverse("record:student-detail", args=[student.uuid])).content.decode()
        api = json.dumps(staff.get(f"/api/students/{student.uuid}").json())
        fhir = fhir_ids(systems[name], student)
        for category in SHAREABLE:
            sees = states[service.name, category] in ("shared", "in_care")
            where = f"{category} for {service.name} (page says {states[service.name, category]})"
            assert (mark(category) in preview.content.decode()) == sees, f"preview: {where}"
            assert (mark(category) in page) == sees, f"staff page: {where}"
            assert (mark(category) in api) == sees, f"API: {where}"
            if category in rows:
                assert (rows[category] in fhir) == sees, f"FHIR: {where}"
    tutor = SignedInClient()
    tutor.force_login(hub.academic)
    page = tutor.get(reverse("record:student-detail", args=[student.uuid])).content.decode()
    department = f"Your department: {hub.history.name}"
    assert (mark("adjustments") in page) == (states[department, "adjustments"] == "shared")
    supported = "The student is being supported by student support services." in page
    assert supported == (states[department, "engagement"] == "shared")


@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(situation=situations)
def test_the_consent_page_preview_staff_page_api_and_fhir_agree(hub, situation):
    client = SignedInClient()
    with rolled_back():
        student, student_user, rows = build(hub, situation)
        systems = partner_systems(hub)
        check_every_surface(hub, client, systems, student, student_user, rows)
        grants = list(ConsentGrant.objects.active().filter(student=student))
        situation["withdrawal_order"].shuffle(grants)
        for grant in grants:
            client.force_login(student_user)
            client.post(reverse("portal:grant-withdraw", args=[grant.uuid]))
            check_every_surface(hub, client, systems, student, student_user, rows)
