import datetime as dt
import itertools
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import SignedInClient, make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.conftest import accessible_at_both_sizes, login, open_from_menu
from joinedup.consent.models import (
    AgreementChange,
    AgreementSide,
    DataSharingAgreement,
    agreement_in_force,
)
from joinedup.consent.policy import decide
from joinedup.consent.tests.factories import give_consent
from joinedup.governance import rules, selectors, services
from joinedup.people.models import Role

TODAY = dt.date(2026, 12, 6)
DAY = dt.timedelta(days=1)


@pytest.fixture
def trust_admin(hub):
    return make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust)


@pytest.fixture
def southgate_admin(hub):
    return make_staff("dpo@sg.ac.uk", Role.ORG_ADMIN, hub.other_university)


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


SIGNED = "Dr Ada Jones, Caldicott Guardian"


def _activate(admin, agreement, organisation):
    return services.set_agreement_side(
        actor=admin, agreement=agreement, organisation=organisation, active=True,
        signatory=SIGNED,
    )  # fmt: skip


def _draft(hub, admin, **changed):
    terms = {
        "organisation": hub.trust, "partner": hub.other_university,
        "title": "Southgate and trust crisis sharing", "categories": ["identity", "risk"],
        "purposes": ["direct_care"], "starts_on": dt.date(2026, 1, 1), "ends_on": None,
        "review_on": dt.date(2027, 6, 1), "follow_up_hours": 48,
        "lawful_basis": "public_task", "condition": "health_care",
    } | changed  # fmt: skip
    return services.draft_agreement(actor=admin, **terms)


def test_an_agreement_needs_another_organisation_something_to_share_and_dates_in_order():
    fine = {
        "own": 1, "partner": 2, "categories": ["risk"], "purposes": ["direct_care"],
        "starts_on": TODAY, "ends_on": None, "review_on": None, "follow_up_hours": 72,
        "lawful_basis": "public_task", "condition": "health_care",
    }  # fmt: skip
    assert rules.agreement_problems(**fine) == {}
    assert "Article 6" in rules.agreement_problems(**fine | {"lawful_basis": ""})["lawful_basis"]
    assert "Article 9" in rules.agreement_problems(**fine | {"condition": ""})["condition"]
    assert "two organisations" in rules.agreement_problems(**fine | {"partner": 1})["partner"]
    assert "partner" in rules.agreement_problems(**fine | {"partner": None})
    assert "categories" in rules.agreement_problems(**fine | {"categories": []})
    assert "purposes" in rules.agreement_problems(**fine | {"purposes": []})
    assert "ends_on" in rules.agreement_problems(**fine | {"ends_on": TODAY - DAY})
    assert rules.agreement_problems(**fine | {"ends_on": TODAY}) == {}
    assert "review_on" in rules.agreement_problems(**fine | {"review_on": TODAY - DAY})
    for hours, refused in ((0, True), (1, False), (336, False), (337, True)):
        assert ("follow_up_hours" in rules.agreement_problems(**fine | {
            "follow_up_hours": hours})) is refused  # fmt: skip


def test_an_agreement_warns_thirty_days_before_it_ends_or_falls_due_for_review():
    assert rules.agreement_warnings(None, None, TODAY) == []
    assert rules.agreement_warnings(TODAY + 31 * DAY, TODAY + 31 * DAY, TODAY) == []
    ending = rules.agreement_warnings(TODAY + 30 * DAY, None, TODAY)
    assert ending == ["Ends on 5 Jan 2027: renew it or let it end."]
    assert rules.agreement_warnings(None, TODAY + 30 * DAY, TODAY) == ["Review due on 5 Jan 2027."]
    assert rules.agreement_warnings(None, TODAY - DAY, TODAY) == [
        "Review overdue since 5 Dec 2026."
    ]
    # An ended agreement says so, and is not reviewed.
    assert rules.agreement_warnings(TODAY - DAY, TODAY - 9 * DAY, TODAY) == ["Ended on 5 Dec 2026."]


def test_in_force_is_one_rule_in_the_query_and_on_the_agreement(hub):
    """Every combination of start, end and the two sides' say: the query and the method
    agree, and an agreement is in force only when started, not ended, and active on both."""
    cases = list(itertools.product(
        (TODAY - DAY, TODAY, TODAY + DAY), (None, TODAY - DAY, TODAY, TODAY + DAY),
        (True, False), (True, False),
    ))  # fmt: skip
    made = {}
    for number, (starts_on, ends_on, one, other) in enumerate(cases):
        agreement = DataSharingAgreement.objects.create(
            title=str(number), categories=["risk"], purposes=["direct_care"],
            starts_on=starts_on, ends_on=ends_on,
        )  # fmt: skip
        AgreementSide.objects.create(agreement=agreement, organisation=hub.trust, active=one)
        AgreementSide.objects.create(
            agreement=agreement, organisation=hub.other_university, active=other
        )
        made[agreement.pk] = (starts_on, ends_on, one, other)
    by_query = set(
        DataSharingAgreement.objects.filter(agreement_in_force(TODAY), pk__in=made)
        .values_list("pk", flat=True)
    )  # fmt: skip
    for agreement in DataSharingAgreement.objects.filter(pk__in=made).prefetch_related("sides"):
        starts_on, ends_on, one, other = made[agreement.pk]
        expected = starts_on <= TODAY and (ends_on is None or ends_on >= TODAY) and one and other
        assert agreement.in_force_on(TODAY) is expected, made[agreement.pk]
        assert (agreement.pk in by_query) is expected, made[agreement.pk]


def test_records_flow_only_once_both_sides_activate_and_stop_when_either_suspends(
    hub, trust_admin, southgate_admin
):
    student = make_student(hub.other_university, "SG2000001")
    give_consent(hub, "risk", hub.trust, student=student, actor=hub.outsider)

    def crisis_team_reads():
        hub.crisis_practitioner.refresh_from_db()  # a new request: nothing cached
        return decide(hub.crisis_practitioner, student, "risk").allowed

    agreement = _draft(hub, trust_admin)
    assert not crisis_team_reads()
    _activate(trust_admin, agreement, hub.trust)
    assert not crisis_team_reads()
    _activate(southgate_admin, agreement, hub.other_university)
    assert crisis_team_reads()
    with pytest.raises(ValidationError, match="Say why"):
        services.set_agreement_side(
            actor=southgate_admin, agreement=agreement, organisation=hub.other_university,
            active=False, note=" ",
        )  # fmt: skip
    assert crisis_team_reads()
    services.set_agreement_side(
        actor=southgate_admin, agreement=agreement, organisation=hub.other_university,
        active=False, note="Our DPIA is being redone.",
    )  # fmt: skip
    assert not crisis_team_reads()
    history = [(c.what, c.organisation, c.by) for c in agreement.changes.all()]
    assert history == [
        ("drafted", hub.trust, trust_admin),
        ("activated", hub.trust, trust_admin),
        ("activated", hub.other_university, southgate_admin),
        ("suspended", hub.other_university, southgate_admin),
    ]
    assert AgreementChange.objects.get(what="suspended").note == "Our DPIA is being redone."
    actions = list(
        AuditEvent.objects.filter(action__startswith="governance.agreement.")
        .values_list("action", "actor_organisation")
    )  # fmt: skip
    assert actions == [
        ("governance.agreement.drafted", "Northbridge NHS Trust"),
        ("governance.agreement.activated", "Northbridge NHS Trust"),
        ("governance.agreement.activated", "Southgate University"),
        ("governance.agreement.suspended", "Southgate University"),
    ]


def test_an_admin_acts_only_for_their_own_organisation(hub, trust_admin, southgate_admin):
    agreement = _draft(hub, trust_admin)
    with pytest.raises(PermissionDenied):
        _activate(trust_admin, agreement, hub.other_university)
    with pytest.raises(PermissionDenied):
        _activate(hub.org_admin, agreement, hub.university)
    with pytest.raises(PermissionDenied):
        _draft(hub, southgate_admin)  # drafting for the trust
    assert not AgreementSide.objects.filter(agreement=agreement, active=True).exists()
    # Neither the other university's admin nor anyone else sees it.
    url = reverse("governance:agreement", args=[agreement.uuid])
    assert _as(hub.org_admin).get(url).status_code == 404
    assert agreement.title not in _as(hub.org_admin).get(
        reverse("governance:agreements")).content.decode()  # fmt: skip
    assert _as(hub.practitioner).get(url).status_code == 403


def test_bad_drafts_are_refused_with_what_to_do_and_nothing_saved(hub, trust_admin):
    client = _as(trust_admin)
    before = DataSharingAgreement.objects.count()
    form = {
        "organisation": hub.trust.pk, "partner": hub.trust.pk, "title": "Ourselves",
        "categories": ["risk"], "purposes": ["direct_care"], "starts_on": "2027-01-01",
        "ends_on": "2026-01-01", "follow_up_hours": "0",
    }  # fmt: skip
    page = client.post(reverse("governance:agreement-new"), form)
    text = page.content.decode()
    assert page.status_code == 400
    # Every problem is said at once.
    assert "choose the other organisation" in text
    assert "The agreement ends before it starts" in text
    assert "from 1 to 336" in text
    form["partner"] = hub.other_university.pk
    text = client.post(reverse("governance:agreement-new"), form).content.decode()
    assert "The agreement ends before it starts" in text
    assert "from 1 to 336" in text
    assert 'value="Ourselves"' in text  # what was typed is kept
    no_notes = client.post(reverse("governance:agreement-new"), form | {
        "categories": ["notes"], "ends_on": "", "follow_up_hours": "72"})  # fmt: skip
    assert no_notes.status_code == 400
    assert DataSharingAgreement.objects.count() == before
    with pytest.raises(ValidationError, match="two organisations"):
        _draft(hub, trust_admin, partner=hub.trust)


def test_what_to_act_on_is_counted_in_the_header(hub, trust_admin, southgate_admin):
    _draft(hub, trust_admin)
    page = _as(southgate_admin).get(reverse("governance:agreements")).content.decode()
    assert "data-nav-count>1" in page
    assert "to act on" in page
    assert "Nothing is shared until it is active for" in page
    assert "Between Northbridge NHS Trust and Southgate University" in page


@pytest.mark.browser
def test_both_sides_activate_an_agreement_and_sharing_starts(
    hub, trust_admin, southgate_admin, page
):
    login(page, trust_admin)
    open_from_menu(page, "Data sharing agreements")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Draft a new agreement").click()
    page.get_by_label("The other organisation").select_option(label="Southgate University")
    page.get_by_label("Title").fill("Southgate crisis sharing")
    page.get_by_role("checkbox", name="Risk").check()
    page.get_by_role("checkbox", name="Identity").check()
    page.get_by_label("Direct care").check()
    page.get_by_label("Starts on").fill("2026-01-01")
    page.get_by_role("button", name="Draft the agreement").click()
    expect(page.get_by_text("Choose the lawful basis of the sharing").first).to_be_visible()
    accessible_at_both_sizes(page)
    page.get_by_label("Article 6(1)(e)").check()
    page.get_by_label("Article 9(2)(h)").check()
    page.get_by_role("button", name="Draft the agreement").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing is shared under it")
    expect(page.locator("[data-state]")).to_contain_text("Not in force")
    expect(page.locator("[data-lawful-basis]")).to_contain_text("a task in the public interest")
    accessible_at_both_sizes(page)
    activate = page.get_by_role("button", name="Activate it for Northbridge NHS Trust")
    activate.click()
    expect(page.get_by_text("Give the name and role of who signed").first).to_be_visible()
    page.get_by_label("Signed for your organisation by").fill(SIGNED)
    page.get_by_role("button", name="Activate it for Northbridge NHS Trust").click()
    expect(page.locator("[data-state]")).to_contain_text(
        "Nothing is shared until it is active for Southgate University"
    )
    expect(page.locator('[data-side="Northbridge NHS Trust"]')).to_contain_text(SIGNED)
    page.context.clear_cookies()

    login(page, southgate_admin)
    open_from_menu(page, "Data sharing agreements")
    page.get_by_role("link", name="Southgate crisis sharing").click()
    page.get_by_role("link", name="Change its terms").click()
    accessible_at_both_sizes(page)
    page.get_by_role("checkbox", name="Adjustments").check()
    page.get_by_role("button", name="Change the terms").click()
    expect(page.get_by_role("status")).to_contain_text("Each side activates it again")
    expect(page.locator("[data-categories]")).to_contain_text("Adjustments")
    expect(page.locator('[data-side="Northbridge NHS Trust"]')).to_contain_text("Not yet activated")
    expect(page.locator("[data-history]")).to_contain_text(
        "Activation undone for Northbridge NHS Trust"
    )
    page.get_by_label("Signed for your organisation by").fill("Prof Ben Ito, SIRO")
    page.get_by_role("button", name="Activate it for Southgate University").click()
    expect(page.get_by_role("status")).to_contain_text("Activated for Southgate University.")
    page.context.clear_cookies()

    cache.clear()  # the trust admin's code of a minute ago may not be used twice
    login(page, trust_admin)
    open_from_menu(page, "Data sharing agreements")
    page.get_by_role("link", name="Southgate crisis sharing").click()
    page.get_by_label("Signed for your organisation by").fill(SIGNED)
    page.get_by_role("button", name="Activate it for Northbridge NHS Trust").click()
    expect(page.locator("[data-state]")).to_contain_text("Records are shared under it now.")
    expect(page.locator("[data-history] li")).to_have_count(5)
    expect(page.locator("[data-history] li").first).to_contain_text(
        "Drafted by Northbridge NHS Trust (dpo@nhs.example)"
    )
    expect(page.get_by_role("link", name="Change its terms")).to_have_count(0)
    page.get_by_label("Why are you suspending it?").fill("Our DPIA is being redone.")
    page.get_by_role("button", name="Suspend it for Northbridge NHS Trust").click()
    expect(page.locator("[data-state]")).to_contain_text("Not in force")
    expect(page.locator("[data-history]")).to_contain_text("Our DPIA is being redone.")
    accessible_at_both_sizes(page)


def test_the_other_side_is_told_of_each_step_by_email(
    hub, trust_admin, southgate_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agreement = _draft(hub, trust_admin)
    [drafted] = mailoutbox
    assert drafted.to == ["dpo@sg.ac.uk"]
    assert "has drafted a data sharing agreement with your organisation" in drafted.body
    assert f"/governance/agreements/{agreement.uuid}/" in drafted.body
    with django_capture_on_commit_callbacks(execute=True):
        _activate(trust_admin, agreement, hub.trust)
    assert "until your side activates it too" in mailoutbox[1].body
    with django_capture_on_commit_callbacks(execute=True):
        _activate(southgate_admin, agreement, hub.other_university)
    assert mailoutbox[2].to == ["dpo@nhs.example"]
    assert "It is in force" in mailoutbox[2].body
    with django_capture_on_commit_callbacks(execute=True):
        services.set_agreement_side(
            actor=southgate_admin, agreement=agreement, organisation=hub.other_university,
            active=False, note="Our DPIA is being redone.",
        )  # fmt: skip
    assert "Their reason: Our DPIA is being redone." in mailoutbox[3].body


def test_a_side_records_a_review_and_sets_the_next(
    hub, trust_admin, southgate_admin, mailoutbox, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    assert "after today" in rules.next_review_problem(today, None, today)
    assert "ends before then" in rules.next_review_problem(today + 10 * DAY, today + DAY, today)
    assert rules.next_review_problem(today + DAY, None, today) == ""
    latest = rules.add_months(today, 36)
    assert rules.next_review_problem(latest, None, today) == ""
    assert "at least every 3 years" in rules.next_review_problem(latest + DAY, None, today)
    agreement = _draft(hub, trust_admin, review_on=today + 5 * DAY)
    url = reverse("governance:agreement", args=[agreement.uuid])
    client = _as(southgate_admin)
    assert "Review due on" in client.get(url).content.decode()
    refused = client.post(url, {"do": "review", "side": hub.other_university.uuid,
                                "next_review_on": str(today)})  # fmt: skip
    assert refused.status_code == 400
    assert "Enter a date after today for the next review." in refused.content.decode()
    assert "Say what the review found" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        reviewed = {"do": "review", "side": hub.other_university.uuid, "note": "Still needed."}
        client.post(url, reviewed | {"next_review_on": str(today + 365 * DAY)})
    agreement.refresh_from_db()
    assert agreement.review_on == today + 365 * DAY
    assert "Review due on" not in client.get(url).content.decode()
    change = agreement.changes.get(what="reviewed")
    assert (change.organisation, change.note) == (hub.other_university, "Still needed.")
    assert "has reviewed" in mailoutbox[-1].body
    assert mailoutbox[-1].to == ["dpo@nhs.example"]


def test_a_draft_nobody_activated_is_withdrawn_with_a_reason_and_kept_in_the_history(
    hub, trust_admin, southgate_admin, mailoutbox, django_capture_on_commit_callbacks
):
    agreement = _draft(hub, trust_admin)
    url = reverse("governance:agreement", args=[agreement.uuid])
    side = {"side": str(hub.other_university.uuid)}
    # The other side may withdraw it too; a reason is needed, and nothing changes without one.
    refused = _as(southgate_admin).post(url, {"do": "withdraw", "note": " "} | side)
    assert refused.status_code == 400
    assert "Say why you are withdrawing the draft." in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = _as(southgate_admin).post(
            url, {"do": "withdraw", "note": "The categories are wrong."} | side, follow=True
        )
    page = done.content.decode()
    assert "The draft is withdrawn" in page
    assert "The draft was withdrawn on" in page
    assert "Activate it for" not in page
    assert "The categories are wrong." in page  # in the history
    agreement.refresh_from_db()
    assert agreement.withdrawn_at is not None
    assert AgreementChange.objects.filter(agreement=agreement, what="withdrawn").count() == 1
    [told] = [m for m in mailoutbox if "withdrawn the draft" in m.body]
    assert told.to == ["dpo@nhs.example"]
    assert "Their reason: The categories are wrong." in told.body
    with pytest.raises(ValidationError, match="draft a new agreement"):
        _activate(trust_admin, agreement, hub.trust)
    header = _as(southgate_admin).get(reverse("governance:agreements")).content.decode()
    assert "data-nav-count" not in header  # nothing left to act on
    assert "Record a review" not in page  # a withdrawn draft has nothing to review
    with pytest.raises(ValidationError, match="nothing to review"):
        services.review_agreement(actor=trust_admin, agreement=agreement, organisation=hub.trust,
                                  next_review_on=dt.date(2027, 6, 1), note="")  # fmt: skip
    assert AuditEvent.objects.filter(action="governance.agreement.withdrawn").count() == 1


def test_each_box_on_an_agreements_page_has_an_id_of_its_own(hub, trust_admin):
    draft = _draft(hub, trust_admin)
    active = _draft(hub, trust_admin, title="Active")
    _activate(trust_admin, active, hub.trust)
    for agreement in (draft, active):  # review with withdraw; review with suspend
        page = _as(trust_admin).get(reverse("governance:agreement", args=[agreement.uuid]))
        ids = re.findall(r' id="([^"]+)"', page.content.decode())
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_an_agreement_once_activated_is_suspended_never_withdrawn(hub, trust_admin):
    agreement = _draft(hub, trust_admin)
    _activate(trust_admin, agreement, hub.trust)
    page = _as(trust_admin).get(reverse("governance:agreement", args=[agreement.uuid]))
    assert "Withdraw this draft" not in page.content.decode()
    with pytest.raises(ValidationError, match="suspend it instead"):
        services.withdraw_agreement(actor=trust_admin, agreement=agreement,
                                    organisation=hub.trust, note="Changed our minds.")  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.withdraw_agreement(actor=trust_admin, agreement=_draft(
            hub, trust_admin, partner=hub.university, title="Other"),
            organisation=hub.other_university, note="Not ours.")  # fmt: skip


@pytest.mark.browser
def test_the_other_side_withdraws_a_draft_in_the_browser(hub, trust_admin, southgate_admin, page):
    _draft(hub, trust_admin, title="Southgate crisis sharing")
    login(page, southgate_admin)
    open_from_menu(page, "Data sharing agreements")
    page.get_by_role("link", name="Southgate crisis sharing").click()
    page.get_by_role("button", name="Withdraw the draft").click()
    expect(page.locator(".nhsuk-error-message")).to_contain_text("Say why you are withdrawing")
    accessible_at_both_sizes(page)
    page.get_by_label("Why are you withdrawing it?").fill("It should cover outcomes too.")
    page.get_by_role("button", name="Withdraw the draft").click()
    expect(page.get_by_role("status")).to_contain_text("The draft is withdrawn")
    expect(page.locator("[data-state]")).to_contain_text("Withdrawn")
    expect(page.locator("[data-history]")).to_contain_text("It should cover outcomes too.")
    expect(page.get_by_role("button", name=re.compile("^Activate"))).to_have_count(0)
    accessible_at_both_sizes(page)


def test_a_draft_neither_side_has_activated_says_it_waits_for_both(hub, trust_admin):
    agreement = _draft(hub, trust_admin)
    page = _as(trust_admin).get(reverse("governance:agreement", args=[agreement.uuid]))
    assert (
        "Nothing is shared until it is active for both Northbridge NHS Trust and Southgate "
        "University." in page.content.decode()
    )


def test_an_agreement_in_force_from_before_sides_were_activated_is_no_draft(hub):
    """Agreements made before each side activated its own were migrated active, with no
    change recorded: never offered for withdrawal, never withdrawn."""
    agreement = hub.agreement
    assert agreement.in_force_on(timezone.localdate())
    assert not agreement.is_draft
    page = _as(hub.org_admin).get(reverse("governance:agreement", args=[agreement.uuid]))
    assert "Withdraw this draft" not in page.content.decode()
    with pytest.raises(ValidationError, match="suspend it instead"):
        services.withdraw_agreement(actor=hub.org_admin, agreement=agreement,
                                    organisation=hub.university, note="Tidying up.")  # fmt: skip
    agreement.refresh_from_db()
    assert agreement.withdrawn_at is None


def test_the_other_sides_data_protection_contact_is_told_too_without_a_link(
    hub, trust_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _draft(hub, trust_admin, partner=hub.university, title="Wellbeing and crisis")
    by_address = {tuple(sent.to): sent for sent in mailoutbox}
    assert "/governance/agreements/" in by_address[(hub.org_admin.email,)].body
    contact = by_address[("dpo@nb.ac.uk",)]  # an address that need not sign in
    assert "under Data sharing agreements" in contact.body
    assert "http" not in contact.body


def test_activating_names_who_signed_for_the_organisation(hub, trust_admin):
    agreement = _draft(hub, trust_admin)
    with pytest.raises(ValidationError, match="who signed the agreement"):
        services.set_agreement_side(actor=trust_admin, agreement=agreement, active=True,
                                    organisation=hub.trust, signatory="  ")  # fmt: skip
    assert not AgreementSide.objects.filter(agreement=agreement, active=True).exists()
    services.set_agreement_side(actor=trust_admin, agreement=agreement, organisation=hub.trust,
                                active=True, signatory=f" {SIGNED} ")  # fmt: skip
    side = AgreementSide.objects.get(agreement=agreement, organisation=hub.trust)
    assert side.signatory == SIGNED
    assert agreement.changes.last().note == f"Signed by {SIGNED}"
    refused = _as(trust_admin).post(reverse("governance:agreement", args=[agreement.uuid]), {
        "do": "activate", "side": hub.other_university.uuid, "signatory": ""})  # fmt: skip
    assert refused.status_code == 404  # not their side to activate


def test_terms_change_until_both_sides_have_it_in_force_and_each_activation_is_undone(
    hub, trust_admin, southgate_admin, mailoutbox, django_capture_on_commit_callbacks
):
    agreement = _draft(hub, trust_admin)
    _activate(trust_admin, agreement, hub.trust)  # fmt: skip
    terms = {name: getattr(agreement, name) for name in rules.AGREEMENT_TERMS}
    with pytest.raises(ValidationError) as refused:
        services.revise_agreement(actor=southgate_admin, agreement=agreement,
                                  organisation=hub.other_university,
                                  **terms | {"lawful_basis": "whim", "categories": []})  # fmt: skip
    assert set(refused.value.message_dict) == {"lawful_basis", "categories"}
    assert (
        services.revise_agreement(
            actor=southgate_admin, agreement=agreement, organisation=hub.other_university, **terms
        )
        == []
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changed = services.revise_agreement(
            actor=southgate_admin, agreement=agreement, organisation=hub.other_university,
            **terms | {"categories": ["identity", "risk", "adjustments"], "follow_up_hours": 24},
        )  # fmt: skip
    assert changed == ["categories", "follow_up_hours"]
    agreement.refresh_from_db()
    assert (agreement.categories, agreement.follow_up_hours) == (
        ["identity", "risk", "adjustments"], 24)  # fmt: skip
    trust_side = AgreementSide.objects.get(agreement=agreement, organisation=hub.trust)
    assert (trust_side.active, trust_side.signatory, trust_side.changed_at) == (False, "", None)
    revised = agreement.changes.last()
    assert revised.what == "revised"
    assert revised.note == (
        "Changed: kinds of record, Identity, Risk → Identity, Risk, Adjustments; follow-up "
        "time, 48 hours → 24 hours. Activation undone for Northbridge NHS Trust: activate it "
        "again to agree to the new terms.")  # fmt: skip
    said = AuditEvent.objects.get(action="governance.agreement.revised").reason
    assert said.startswith("agreement “Southgate and trust crisis sharing” (")
    assert "Identity, Risk → Identity, Risk, Adjustments" in said
    [told] = mailoutbox
    assert told.to == ["dpo@nhs.example"]
    assert "has changed the terms of “Southgate and trust crisis sharing”" in told.body

    for admin, org in ((trust_admin, hub.trust), (southgate_admin, hub.other_university)):
        _activate(admin, agreement, org)
    agreement.refresh_from_db()
    assert not agreement.may_be_revised
    with pytest.raises(ValidationError, match="in force on both sides"):
        services.revise_agreement(actor=trust_admin, agreement=agreement,
                                  organisation=hub.trust, **terms)  # fmt: skip
    page = _as(trust_admin).get(reverse("governance:agreement-change", args=[agreement.uuid]))
    assert page.status_code == 302
    assert agreement.categories == ["identity", "risk", "adjustments"]


def test_an_agreement_made_before_the_basis_was_asked_says_so(hub, trust_admin):
    agreement = _draft(hub, trust_admin)
    DataSharingAgreement.objects.filter(pk=agreement.pk).update(lawful_basis="", condition="")
    page = _as(trust_admin).get(reverse("governance:agreement", args=[agreement.uuid]))
    assert "Not recorded: the agreement was made before it was asked for" in page.content.decode()


def test_another_agreement_in_force_between_the_same_organisations_is_named(hub, trust_admin):
    second = _draft(hub, trust_admin, partner=hub.university, title="Crisis pilot")
    for admin, org in ((trust_admin, hub.trust), (hub.org_admin, hub.university)):
        _activate(admin, second, org)
    page = _as(hub.org_admin).get(reverse("governance:agreement", args=[second.uuid]))
    said = page.content.decode()
    assert f"Another agreement between these organisations is in force, “{hub.agreement.title}”" \
        in said  # fmt: skip
    assert "whatever happens to this one" in said
    facts = {f.agreement.title: f for f in selectors.agreements_of(hub.org_admin)}
    assert facts[hub.agreement.title].alongside == ["Crisis pilot"]
    assert facts["Crisis pilot"].alongside == [hub.agreement.title]
    assert selectors.agreements_of(trust_admin)  # the other side sees it too
