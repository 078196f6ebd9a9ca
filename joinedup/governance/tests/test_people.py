import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD, SignedInClient, make_staff
from joinedup.audit.models import AuditEvent
from joinedup.conftest import accessible_at_both_sizes, login, open_from_menu
from joinedup.governance import rules, staff
from joinedup.governance.models import Invitation, Suspension
from joinedup.governance.staff import Place
from joinedup.people.models import Membership, Role, User
from joinedup.people.tests.test_sign_in import totp_code

NOW = dt.datetime(2026, 12, 6, 9, tzinfo=dt.UTC)
NEW_PASSWORD = "a long walk by the river"


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body)[0].split("://", 1)[1].split("/", 1)[1]


def _joining(password: str) -> dict:
    return {"first_name": "Nina", "last_name": "Shah", "password": password,
            "password_again": password}  # fmt: skip


def _invite(hub, email="nina@nb.ac.uk", role=Role.PRACTITIONER, **place):
    place = Place(hub.university, **(place or {"service": hub.counselling}))
    return staff.invite(actor=hub.org_admin, email=email, role=role, place=place)


def test_each_role_is_held_where_it_works():
    assert rules.place_problem("practitioner", service=True, department=False) == ""
    assert "service" in rules.place_problem("practitioner", service=False, department=False)
    assert "service" in rules.place_problem("service_manager", service=False, department=True)
    assert "department" in rules.place_problem("academic", service=True, department=False)
    assert rules.place_problem("academic", service=False, department=True) == ""
    assert rules.place_problem("org_admin", service=False, department=False) == ""
    assert "whole organisation" in rules.place_problem("researcher", service=True,
                                                       department=False)  # fmt: skip


def test_an_invitation_is_good_for_a_week_once():
    expires = NOW + rules.INVITATION_LASTS
    kept = {"expires_at": expires, "accepted": False, "withdrawn": False}
    assert rules.invitation_problem(now=NOW, **kept) == ""
    assert rules.invitation_problem(now=expires - dt.timedelta(seconds=1), **kept) == ""
    assert "expired on 13 December 2026" in rules.invitation_problem(now=expires, **kept)
    assert "used already" in rules.invitation_problem(now=NOW, **kept | {"accepted": True})
    assert "withdrawn" in rules.invitation_problem(now=NOW, **kept | {"withdrawn": True})


def test_an_invited_practitioner_makes_an_account_and_enrols_a_second_factor_first(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(hub)
    [sent] = mailoutbox
    assert sent.to == ["nina@nb.ac.uk"]
    assert "as Practitioner in Counselling" in sent.body
    path = "/" + _link(sent)
    visitor = SignedInClient()
    page = visitor.get(path).content.decode()
    assert "has invited you to work as Practitioner in Counselling" in page
    refused = visitor.post(path, _joining("password"))
    assert refused.status_code == 400
    assert "This password is too common" in refused.content.decode()
    assert 'value="Shah"' in refused.content.decode()
    assert not User.objects.filter(email="nina@nb.ac.uk").exists()
    joined = visitor.post(path, _joining(NEW_PASSWORD))
    assert joined.status_code == 302
    nina = User.objects.get(email="nina@nb.ac.uk")
    assert nina.check_password(NEW_PASSWORD)
    assert Membership.objects.filter(user=nina, service=hub.counselling, role="practitioner")
    # Before anything else: the second factor.
    first = visitor.get(reverse("record:caseload"))
    assert first.status_code == 302
    assert "/accounts/2fa/totp/activate/" in first["Location"]
    again = SignedInClient().get(path)
    assert again.status_code == 410
    assert "used already" in again.content.decode()
    joined_entry = AuditEvent.objects.get(action="governance.person.joined")
    assert joined_entry.actor == nina
    assert joined_entry.actor_organisation == "University of Northbridge"
    assert AuditEvent.objects.get(action="governance.person.invited").actor == hub.org_admin


def test_someone_with_an_account_signs_in_and_accepts(hub):
    invitation = _invite(hub, email=hub.practitioner.email)
    path = reverse("governance:join", args=[staff.token_of(invitation)])
    page = SignedInClient().get(path).content.decode()
    assert "Sign in to accept" in page
    other = _as(hub.counsellor).get(path).content.decode()
    assert "Sign out, then open the link again" in other
    accepted = _as(hub.practitioner).post(path)
    assert accepted.status_code == 302
    assert Membership.objects.filter(user=hub.practitioner, service=hub.counselling).exists()


def test_bad_invitations_are_refused_with_what_to_do(hub):
    invitation = _invite(hub)
    with pytest.raises(ValidationError, match="was invited to this role on"):
        _invite(hub, email="NINA@nb.ac.uk ")
    with pytest.raises(ValidationError, match="has this role already"):
        _invite(hub, email=hub.practitioner.email, service=hub.wellbeing)
    with pytest.raises(ValidationError, match="Choose the service"):
        _invite(hub, email="x@nb.ac.uk", role=Role.PRACTITIONER, department=hub.history)
    with pytest.raises(PermissionDenied):  # a service of another organisation
        _invite(hub, email="x@nb.ac.uk", service=hub.crisis)
    with pytest.raises(PermissionDenied):  # not an admin
        staff.invite(actor=hub.practitioner, email="x@nb.ac.uk", role="practitioner",
                     place=Place(hub.university, service=hub.wellbeing))  # fmt: skip
    assert Invitation.objects.count() == 1
    invitation.expires_at = timezone.now() - dt.timedelta(minutes=1)
    invitation.save()
    path = reverse("governance:join", args=[staff.token_of(invitation)])
    expired = SignedInClient().get(path)
    assert expired.status_code == 410
    assert "expired on" in expired.content.decode()
    assert "oscar@nb.ac.uk" in expired.content.decode()
    posted = SignedInClient().post(path, _joining(NEW_PASSWORD))
    assert posted.status_code == 410
    assert not User.objects.filter(email="nina@nb.ac.uk").exists()
    forged = SignedInClient().get(reverse("governance:join", args=["not-a-token"]))
    assert forged.status_code == 404
    assert "not complete or not valid" in forged.content.decode()
    # An expired invitation can be sent again, for another week.
    staff.resend(actor=hub.org_admin, invitation=invitation)
    assert SignedInClient().get(path).status_code == 200
    staff.withdraw(actor=hub.org_admin, invitation=invitation)
    assert "withdrawn" in SignedInClient().get(path).content.decode()


def test_the_invite_form_says_what_is_wrong_and_keeps_what_was_typed(hub):
    client = _as(hub.org_admin)
    asked = {"email": "nina@nb.ac.uk", "role": "academic", "place": f"service:{hub.wellbeing.pk}"}
    page = client.post(reverse("governance:invite"), asked)
    assert page.status_code == 400
    assert "Choose the department this role works in." in page.content.decode()
    assert 'value="nina@nb.ac.uk"' in page.content.decode()
    asked |= {"role": "practitioner", "place": f"service:{hub.crisis.pk}"}
    other_org = client.post(reverse("governance:invite"), asked)
    assert other_org.status_code == 400
    assert not Invitation.objects.exists()


def test_suspending_ends_access_at_the_next_page_and_resuming_gives_it_back(hub):
    practitioner = _as(hub.practitioner)
    assert practitioner.get(reverse("record:caseload")).status_code == 200
    with pytest.raises(ValidationError, match="Say why"):
        staff.suspend(actor=hub.org_admin, user=hub.practitioner,
                      organisation=hub.university, reason=" ")  # fmt: skip
    staff.suspend(actor=hub.org_admin, user=hub.practitioner, organisation=hub.university,
                  reason="Under investigation.")  # fmt: skip
    hub.practitioner.refresh_from_db()
    assert not hub.practitioner.is_active
    assert not Membership.objects.filter(user=hub.practitioner).exists()
    assert practitioner.get(reverse("record:caseload")).status_code == 302  # signed out
    admin_view = _as(hub.org_admin).get(
        reverse("governance:person", args=[hub.practitioner.uuid])).content.decode()  # fmt: skip
    assert "Under investigation." in admin_view
    assert "Suspended" in admin_view
    staff.resume(actor=hub.org_admin, user=hub.practitioner, organisation=hub.university)
    hub.practitioner.refresh_from_db()
    assert hub.practitioner.is_active
    assert Membership.objects.get(user=hub.practitioner).service == hub.wellbeing
    assert not Suspension.objects.exists()
    actions = set(AuditEvent.objects.filter(action__startswith="governance.person.")
                  .values_list("action", "actor"))  # fmt: skip
    assert actions == {("governance.person.suspended", hub.org_admin.pk),
                       ("governance.person.resumed", hub.org_admin.pk)}  # fmt: skip


def test_someone_suspended_gets_no_new_role_but_can_be_recorded_as_left(hub):
    staff.suspend(actor=hub.org_admin, user=hub.practitioner, organisation=hub.university,
                  reason="Under investigation.")  # fmt: skip
    with pytest.raises(ValidationError, match="give their roles back first"):
        staff.add_role(actor=hub.org_admin, user=hub.practitioner, role=Role.TRIAGE,
                       place=Place(hub.university, service=hub.wellbeing))  # fmt: skip
    url = reverse("governance:person", args=[hub.practitioner.uuid])
    page = _as(hub.org_admin).get(url).content.decode()
    assert "Give them a role" not in page
    assert "Suspend them" not in page
    assert "They have left" in page
    _as(hub.org_admin).post(url, {"do": "leave", "organisation": hub.university.uuid,
                                  "confirm": "yes"})  # fmt: skip
    assert not Suspension.objects.exists()
    assert not Membership.objects.filter(user=hub.practitioner).exists()


def test_leaving_ends_every_role_there_but_not_elsewhere(hub):
    both = make_staff("bo@nb.ac.uk", Role.PRACTITIONER, hub.university, service=hub.wellbeing)
    Membership.objects.create(user=both, organisation=hub.trust, service=hub.crisis,
                              role=Role.PRACTITIONER)  # fmt: skip
    url = reverse("governance:person", args=[both.uuid])
    asked = _as(hub.org_admin).post(url, {"do": "leave", "organisation": hub.university.uuid})
    assert "Yes, they have left" in asked.content.decode()  # asked first
    assert both.memberships.count() == 2
    _as(hub.org_admin).post(url, {"do": "leave", "organisation": hub.university.uuid,
                                  "confirm": "yes"})  # fmt: skip
    both.refresh_from_db()
    assert both.is_active  # still works at the trust
    assert list(both.memberships.values_list("organisation", flat=True)) == [hub.trust.pk]
    # The trust's work is not the university admin's to see or change.
    assert _as(hub.org_admin).get(
        reverse("governance:person", args=[both.uuid])).status_code == 404  # fmt: skip


def test_an_admin_keeps_their_own_role_and_their_organisation_keeps_one(hub):
    with pytest.raises(ValidationError, match="Ask another admin"):
        staff.leave(actor=hub.org_admin, user=hub.org_admin, organisation=hub.university)
    second = make_staff("ada@nb.ac.uk", Role.ORG_ADMIN, hub.university)
    staff.leave(actor=second, user=hub.org_admin, organisation=hub.university)
    with pytest.raises(ValidationError, match="Ask another admin"):
        staff.leave(actor=second, user=second, organisation=hub.university)


def test_roles_are_added_and_removed_and_the_list_shows_the_last_sign_in(hub):
    client = _as(hub.org_admin)
    url = reverse("governance:person", args=[hub.practitioner.uuid])
    client.post(url, {"do": "add_role", "role": "service_manager",
                      "place": f"service:{hub.counselling.pk}"})  # fmt: skip
    assert Membership.objects.filter(user=hub.practitioner, role="service_manager").exists()
    added = Membership.objects.get(user=hub.practitioner, role="service_manager")
    client.post(url, {"do": "remove_role", "membership": added.pk})
    assert not Membership.objects.filter(pk=added.pk).exists()
    hub.practitioner.last_login = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    hub.practitioner.save()
    listed = client.get(reverse("governance:people")).content.decode()
    assert "1 Dec 2026, 09:30" in listed
    assert "Never" in listed  # someone who never signed in
    assert hub.crisis_practitioner.email not in listed  # another organisation's


@pytest.mark.browser
def test_an_admin_invites_a_practitioner_who_enrols_a_second_factor(hub, page, browser):
    login(page, hub.org_admin)
    open_from_menu(page, "People")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Their work email address").fill("nina@nb.ac.uk")
    page.get_by_label("Role").select_option(label="Practitioner")
    page.get_by_label("Where").select_option(label="Counselling (service)")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to nina@nb.ac.uk")
    expect(page.locator('[data-invitation="nina@nb.ac.uk"]')).to_contain_text("Counselling")
    accessible_at_both_sizes(page)

    [sent] = mail.outbox
    invitee = browser.new_context(base_url=page.url.split("/governance")[0], locale="en-GB")
    new = invitee.new_page()
    new.goto("/" + _link(sent))
    expect(new.locator("[data-invitation]")).to_contain_text("Practitioner in Counselling")
    accessible_at_both_sizes(new)
    new.get_by_label("First name").fill("Nina")
    new.get_by_label("Last name").fill("Shah")
    new.get_by_label("Choose a password").fill(NEW_PASSWORD)
    new.get_by_label("Type the password again").fill(NEW_PASSWORD)
    new.get_by_role("button", name="Make my account").click()
    # allauth asks for the password again before an authenticator is added.
    new.get_by_label("Password").fill(NEW_PASSWORD)
    new.get_by_role("button", name="Confirm").click()
    expect(new.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    secret = new.locator("#authenticator_secret").input_value()
    new.get_by_label("Authenticator code").fill(totp_code(secret))
    new.get_by_role("button", name="Activate").click()
    expect(new.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    new.goto("/")
    expect(new.get_by_role("heading", level=1)).to_have_text("My day")
    invitee.close()

    page.reload()
    expect(page.locator('[data-person="nina@nb.ac.uk"]')).to_contain_text("Counselling")
    expect(page.locator("[data-invitations]")).to_have_count(0)
    assert PASSWORD != NEW_PASSWORD


def test_someone_who_left_is_invited_back_and_signs_in_as_before(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    staff.leave(actor=hub.org_admin, user=hub.practitioner, organisation=hub.university)
    hub.practitioner.refresh_from_db()
    assert not hub.practitioner.is_active  # no role left: they cannot sign in
    with django_capture_on_commit_callbacks(execute=True):
        _invite(hub, email=hub.practitioner.email.upper())
    link = "/" + _link(mailoutbox[-1])
    client = SignedInClient()
    page = client.get(link).content.decode()
    assert "closed when your last role ended" in page
    assert "Sign in to accept" not in page  # they could not: the account is closed

    done = client.post(link, follow=True)
    assert done.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "You now work as Practitioner in Counselling" in done.content.decode()
    hub.practitioner.refresh_from_db()
    assert hub.practitioner.is_active
    assert hub.practitioner.memberships.get().service == hub.counselling
    assert "_auth_user_id" not in client.session  # the link alone signs no one in
    sign_in = client.post(reverse("account_login"),
                          {"login": hub.practitioner.email, "password": PASSWORD})  # fmt: skip
    assert sign_in["Location"] == "/accounts/2fa/authenticate/"  # their second factor, as before
    assert client.get(link).status_code == 410  # used once
