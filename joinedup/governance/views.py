"""What organisation admins run: the data protection review of emergency overrides, and
the search and verification of the audit log."""

import csv
import io
from copy import copy
from datetime import date as dt_date
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import Category, Purpose
from joinedup.governance import (
    optouts,
    retention,
    rights,
    rules,
    selectors,
    services,
    staff,
)
from joinedup.governance.forms import (
    ActivateForm,
    AgreementForm,
    AgreementReviewForm,
    AnswerForm,
    AuditSearchForm,
    CorrectionForm,
    ExtendForm,
    InviteForm,
    JoinForm,
    OptOutAnswerForm,
    RetentionForm,
    ReviewForm,
    RightsRequestForm,
    RoleForm,
    SuspendForm,
    SuspendPersonForm,
    WithdrawForm,
)
from joinedup.governance.models import ChainCheck, Invitation, OptOutCheck, RetentionRun
from joinedup.people.models import Organisation, Role, User
from joinedup.people.permissions import capability_required
from joinedup.referrals.views import add_errors


def is_org_admin(user) -> bool:
    return user.is_authenticated and bool(selectors.organisations_reviewed_by(user))


@login_required
@capability_required(is_org_admin)
def overrides(request):
    """Every emergency override used by a member of my organisations, not yet reviewed
    first, each with why, from where, what kinds of record it read and its review."""
    page = Paginator(selectors.overrides_for(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "governance/overrides.html", {
        "page": page, "rows": selectors.facts_of(list(page)),
    })  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def override_review(request, access_uuid):
    access = selectors.overrides_for(request.user).filter(uuid=access_uuid).first()
    if access is None:
        raise Http404("No such emergency access.")
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and not hasattr(access, "review"):
        try:
            services.review_override(actor=request.user, access=access, request=request,
                                     **form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Your review is recorded."))
            return redirect("governance:overrides")
    [facts] = selectors.facts_of([access])
    return render(request, "governance/override_review.html", {"facts": facts, "form": form},
                  status=400 if form.errors else 200)  # fmt: skip


CSV_HEADER = ("entry", "when", "staff email", "role", "service or department", "organisation",
              "student number", "NHS number", "what", "kind of record", "basis", "reason",
              "action")  # fmt: skip


@login_required
@capability_required(is_org_admin)
def audit_log(request):
    """Search what members of my organisations did in the audit log; download it as CSV;
    verify the chain. Each search and download is audited."""
    today = timezone.localdate()
    asked = request.GET if "start" in request.GET else {
        "start": today - timedelta(days=rules.SEARCH_DAYS - 1), "end": today,
    }  # fmt: skip
    form = AuditSearchForm(asked, places=selectors.places_of(request.user))
    if not form.is_valid():
        return render(request, "governance/audit.html", {"form": form}, status=400)
    asked_for = form.cleaned_data
    if reference := asked_for.pop("override"):
        access = selectors.override_referenced(request.user, reference)
        if access is None:
            form.add_error("override", _("No emergency override with this reference was used "
                                         "from your organisation."))  # fmt: skip
            return render(request, "governance/audit.html", {"form": form}, status=400)
        asked_for |= {"override": access, "start": timezone.localdate(access.opened_at),
                      "end": timezone.localdate(access.expires_at)}  # fmt: skip
    search = selectors.AuditSearch(**asked_for)
    entries = selectors.audit_entries(request.user, search)
    if request.GET.get("download") == "csv":
        rows = list(entries)
        services.record_audit_search(actor=request.user, search=search, found=len(rows),
                                     downloaded=True, request=request)  # fmt: skip
        return _csv(rows, f"audit-{search.start}-to-{search.end}.csv")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    services.record_audit_search(actor=request.user, search=search,
                                 found=page.paginator.count, request=request)  # fmt: skip
    return render(request, "governance/audit.html", {
        "form": form, "page": page, "searched": True, "search": search,
        "rows": [(e, selectors.read_in_words(e), rules.action_in_words(e.action),
                  selectors.reason_of(e)) for e in page],
        "download": request.GET.urlencode() if "start" in request.GET
        else urlencode({k: str(v) for k, v in asked.items()}),
    })  # fmt: skip


def _csv(entries: list[AuditEvent], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for e in entries:
        student = e.student
        writer.writerow([rules.spreadsheet_safe(str(value)) for value in (
            e.seq, timezone.localtime(e.at).isoformat(timespec="seconds"), e.actor_email,
            Role(e.actor_role).label if e.actor_role in Role.values else e.actor_role,
            e.actor_service, e.actor_organisation,
            student.student_number if student else "", student.nhs_number if student else "",
            rules.action_in_words(e.action) if e.allowed is None else selectors.read_in_words(e),
            e.category, e.get_basis_display(), selectors.reason_of(e),
            e.action,
        )])  # fmt: skip
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def audit_verify(request):
    """Check the whole chain, as `joinedup verify_audit` does, and name its first break. The
    check runs outside the request (a large log takes minutes); the page shows the latest,
    running or finished, and keeps asking while it runs."""
    if request.method == "POST":
        services.request_chain_check(actor=request.user)
        return redirect("governance:audit-verify")
    latest = ChainCheck.objects.select_related("requested_by").first()
    template = "governance/_chain_check.html" if request.htmx else "governance/audit_verify.html"
    return render(request, template, {"check": latest})


@login_required
@capability_required(is_org_admin)
def agreements(request):
    """The data sharing agreements my organisations are party to, each with both sides'
    state and what to act on."""
    return render(request, "governance/agreements.html", {
        "rows": selectors.agreements_of(request.user),
    })  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def agreement_new(request):
    own = selectors.organisations_reviewed_by(request.user)
    form = AgreementForm(request.POST if request.method == "POST" else None, own=own)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.draft_agreement(
                actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _(
                "The agreement is drafted. Nothing is shared under it until both "
                "organisations have activated it: activate it for yours below."
            ))  # fmt: skip
            return redirect("governance:agreement", agreement.uuid)
    return render(request, "governance/agreement_new.html", {"form": form},
                  status=400 if form.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def agreement_change(request, agreement_uuid):
    """Change the terms of an agreement not yet in force on both sides."""
    facts = selectors.agreement_of(request.user, agreement_uuid)
    if facts is None:
        raise Http404("No such agreement.")
    agreement = facts.agreement
    if not agreement.may_be_revised:
        messages.error(request, _("Its terms cannot change now: it is withdrawn, or in force on "
                                  "both sides."))  # fmt: skip
        return redirect("governance:agreement", agreement_uuid)
    form = AgreementForm(request.POST if request.method == "POST" else None, own=[],
                         agreement=agreement)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.revise_agreement(actor=request.user, agreement=agreement,
                                                organisation=facts.mine[0].organisation,
                                                request=request, **form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _(
                "Its terms are changed. Each side activates it again to agree to them; the "
                "other side is told."
            ) if changed else _("Nothing was changed."))  # fmt: skip
            return redirect("governance:agreement", agreement_uuid)
    return render(request, "governance/agreement_new.html", {"form": form, "agreement": agreement},
                  status=400 if form.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def agreement(request, agreement_uuid):
    facts = selectors.agreement_of(request.user, agreement_uuid)
    if facts is None:
        raise Http404("No such agreement.")
    do = request.POST.get("do")
    # Each form's boxes get ids of their own: several may ask for a note on one page.
    suspend = SuspendForm(request.POST if do == "suspend" else None, auto_id="suspend-%s")
    activate = ActivateForm(request.POST if do == "activate" else None, auto_id="activate-%s")
    review = AgreementReviewForm(request.POST if do == "review" else None, auto_id="review-%s")
    withdraw = WithdrawForm(request.POST if do == "withdraw" else None, auto_id="withdraw-%s")
    if request.method == "POST":
        side = next((s for s in facts.mine if str(s.organisation.uuid) == request.POST.get("side")),
                    None)  # fmt: skip
        if side is None:
            raise Http404("Your organisation is not party to this agreement.")
        org = side.organisation
        if do == "withdraw" and withdraw.is_valid():
            try:
                services.withdraw_agreement(actor=request.user, agreement=facts.agreement,
                                            organisation=org, request=request,
                                            note=withdraw.cleaned_data["note"])  # fmt: skip
            except ValidationError as error:
                add_errors(withdraw, error)
            else:
                messages.success(request, _("The draft is withdrawn: nothing will be shared "
                                            "under it. The other side is told."))  # fmt: skip
                return redirect("governance:agreement", agreement_uuid)
        if do == "review" and review.is_valid():
            try:
                services.review_agreement(actor=request.user, agreement=facts.agreement,
                                          organisation=org, request=request,
                                          **review.cleaned_data)  # fmt: skip
            except ValidationError as error:
                add_errors(review, error)
            else:
                day = review.cleaned_data["next_review_on"]
                messages.success(request, _("The review is recorded; the next is due by "
                                            "%(day)s. The other side is told.")
                                 % {"day": f"{day:%-d %B %Y}"})  # fmt: skip
                return redirect("governance:agreement", agreement_uuid)
        elif (do == "activate" and activate.is_valid()) or (do == "suspend" and suspend.is_valid()):
            activating = do == "activate"
            try:
                services.set_agreement_side(
                    actor=request.user, agreement=facts.agreement, organisation=org,
                    active=activating, request=request,
                    **(activate.cleaned_data if activating else suspend.cleaned_data),
                )  # fmt: skip
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect("governance:agreement", agreement_uuid)
            done = (_("Activated for %(org)s.") if activating else _(
                "Suspended for %(org)s: nothing is shared under it from now on."
            ))  # fmt: skip
            messages.success(request, done % {"org": org.name})
            return redirect("governance:agreement", agreement_uuid)
    changes = facts.agreement.changes.select_related("organisation", "by")
    return render(request, "governance/agreement.html", {
        "facts": facts, "suspend": suspend, "activate": activate, "changes": changes,
        "review": review,
        "withdraw": withdraw,
        "categories": [Category(c).label for c in facts.agreement.categories if c in Category],
        "purposes": [Purpose(p).label for p in facts.agreement.purposes if p in Purpose],
    }, status=400 if any(form.errors for form in (suspend, activate, review, withdraw))
        else 200)  # fmt: skip


def _my_organisations(user):
    return Organisation.objects.filter(pk__in=selectors.organisations_reviewed_by(user))


@login_required
@capability_required(is_org_admin)
def people(request):
    """Everyone with a role in my organisations, their last sign-in, and the invitations
    not yet accepted."""
    mine = selectors.organisations_reviewed_by(request.user)
    invitations = staff.pending(Invitation.objects.filter(organisation_id__in=mine)) | (
        Invitation.objects.filter(organisation_id__in=mine, accepted_at__isnull=True,
                                  withdrawn_at__isnull=True, expires_at__lte=timezone.now())
    )  # fmt: skip
    return render(request, "governance/people.html", {
        "people": staff.people_of(request.user),
        "invitations": invitations.select_related("service", "department", "organisation",
                                                  "invited_by").order_by("-invited_at"),
        "now": timezone.now(),
    })  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def invite(request):
    form = InviteForm(request.POST if request.method == "POST" else None,
                      organisations=_my_organisations(request.user))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            invitation = staff.invite(
                actor=request.user, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], place=form.chosen_place(), request=request,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _(
                "Invitation sent to %(email)s. They have 7 days to accept it."
            ) % {"email": invitation.email})  # fmt: skip
            return redirect("governance:people")
    return render(request, "governance/invite.html", {"form": form},
                  status=400 if form.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["POST"])
def invitation(request, invitation_uuid):
    found = Invitation.objects.filter(
        uuid=invitation_uuid, organisation_id__in=selectors.organisations_reviewed_by(request.user)
    ).first()
    if found is None:
        raise Http404("No such invitation.")
    if request.POST.get("do") not in ("resend", "withdraw"):
        messages.error(request, _("Choose to send the invitation again or to withdraw it."))
        return redirect("governance:people")
    try:
        if request.POST.get("do") == "withdraw":
            staff.withdraw(actor=request.user, invitation=found, request=request)
            messages.success(request, _("The invitation to %(email)s is withdrawn: its link "
                                        "no longer works.") % {"email": found.email})  # fmt: skip
        else:
            staff.resend(actor=request.user, invitation=found, request=request)
            messages.success(request, _("The invitation is sent to %(email)s again, for "
                                        "another 7 days.") % {"email": found.email})  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("governance:people")


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def person(request, user_uuid):
    found = staff.people_of(request.user, user_uuid)
    if not found:
        raise Http404("No such person in your organisation.")
    [who] = found
    organisations = _my_organisations(request.user)
    do = request.POST.get("do")
    add = RoleForm(request.POST if do == "add_role" else None, organisations=organisations)
    suspend = SuspendPersonForm(request.POST if do == "suspend" else None)
    # Leaving is asked on the page first.
    confirm_leave = None
    if do == "leave" and request.POST.get("confirm") != "yes":
        confirm_leave = organisations.filter(uuid=request.POST.get("organisation")).first()
    elif request.method == "POST":
        try:
            done = _act_on_person(request, who, do, add, suspend, organisations)
        except ValidationError as error:
            if do in ("suspend", "add_role"):
                add_errors(suspend if do == "suspend" else add, error)
            else:
                messages.error(request, " ".join(error.messages))
        else:
            if done:
                messages.success(request, done)
                return redirect("governance:person", user_uuid)
    return render(request, "governance/person.html", {
        "who": who, "add": add, "suspend": suspend, "organisations": organisations,
        "confirm_leave": confirm_leave,
    }, status=400 if add.errors or suspend.errors else 200)  # fmt: skip


def _act_on_person(request, who, do, add, suspend, organisations) -> str:
    """Do what the person page's button asked; say what happened ("" when the form is wrong)."""
    actor, user = request.user, who.user
    org = organisations.filter(uuid=request.POST.get("organisation")).first()
    if do == "add_role":
        if not add.is_valid():
            return ""
        staff.add_role(actor=actor, user=user, role=add.cleaned_data["role"],
                       place=add.chosen_place(), request=request)  # fmt: skip
        return _("Role added. It works from their next page.")
    if do == "remove_role":
        membership = next((m for m in who.roles if str(m.pk) == request.POST.get("membership")),
                          None)  # fmt: skip
        if membership is None:
            raise Http404("No such role.")
        staff.remove_role(actor=actor, membership=membership, request=request)
        return _("Role removed. It ends at their next page.")
    if org is None:
        raise Http404("No such organisation of yours.")
    if do == "suspend":
        if not suspend.is_valid():
            return ""
        staff.suspend(actor=actor, user=user, organisation=org,
                      reason=suspend.cleaned_data["reason"], request=request)  # fmt: skip
        return _("Suspended. Their access ended now; their roles are kept to give back.")
    if do == "resume":
        staff.resume(actor=actor, user=user, organisation=org, request=request)
        return _("Their roles are given back.")
    if do == "leave":
        staff.leave(actor=actor, user=user, organisation=org, request=request)
        return _("They have left %(org)s: every role there has ended.") % {"org": org.name}
    raise Http404("No such action.")


@require_http_methods(["GET", "POST"])
def join(request, token):
    """The invitation's link, for the person invited: make an account (or use theirs) and
    take the role; then set up the second factor before anything else."""
    found = staff.invitation_of(token)
    if found is None:
        return render(request, "governance/join.html", {"problem": _(
            "This invitation link is not complete or not valid. Open the link from the email "
            "again, or ask for a new invitation."
        )}, status=404)  # fmt: skip
    if problem := staff.problem_with(found):
        return render(request, "governance/join.html", {"problem": problem, "invitation": found},
                      status=410)  # fmt: skip
    existing = User.objects.filter(email__iexact=found.email).first()
    signed_in = request.user if request.user.is_authenticated else None
    form = JoinForm(request.POST if request.method == "POST" and existing is None else None,
                    email=found.email)  # fmt: skip
    if request.method == "POST":
        try:
            if existing is None and form.is_valid():
                names = ("first_name", "last_name", "password")
                user = staff.accept(invitation=found, request=request,
                                    **{k: form.cleaned_data[k] for k in names})  # fmt: skip
                auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("/")
            if existing is not None and signed_in == existing:
                staff.accept(invitation=found, user=existing, request=request)
                messages.success(request, _("You now work as %(role)s in %(place)s.") % {
                    "role": Role(found.role).label, "place": found.place})  # fmt: skip
                return redirect("/")
            if existing is not None and signed_in is None and not existing.is_active:
                # Someone who left every role cannot sign in: the link, sent to their own
                # address, opens their account again (as a reset link would); they then sign
                # in with their password and second factor as before.
                staff.accept(invitation=found, user=existing, request=request)
                messages.success(request, _(
                    "You now work as %(role)s in %(place)s. Sign in with your password and "
                    "your authenticator app's code."
                ) % {"role": Role(found.role).label, "place": found.place})  # fmt: skip
                return redirect("account_login")
        except ValidationError as error:
            add_errors(form, error)
    return render(request, "governance/join.html", {
        "invitation": found, "form": form, "existing": existing, "signed_in": signed_in,
        "role": Role(found.role).label,
    }, status=400 if form.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
def rights_requests(request):
    """The log of rights requests made outside the portal, open ones first, with each one's
    due date."""
    today = timezone.localdate()
    return render(request, "governance/rights_requests.html", {
        "rows": [(row, None if row.responded_on else rules.clock_of(row.due_on, today))
                 for row in rights.requests_of(request.user)],
    })  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def rights_request_new(request):
    own = selectors.organisations_reviewed_by(request.user)
    form = RightsRequestForm(request.POST if request.method == "POST" else None, own=own)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            row = rights.log_request(actor=request.user, request=request, **fields)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Logged. The answer is due by %(day)s.")
                             % {"day": f"{row.due_on:%-d %B %Y}"})  # fmt: skip
            return redirect("governance:rights-request", row.uuid)
    return render(request, "governance/rights_request_new.html", {"form": form},
                  status=400 if form.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def rights_request(request, rights_request_uuid):
    row = rights.requests_of(request.user).filter(uuid=rights_request_uuid).first()
    if row is None:
        raise Http404("No such request.")
    do = request.POST.get("do")
    answer = AnswerForm(request.POST if do == "answer" else None)
    extend = ExtendForm(request.POST if do == "extend" else None)
    # A ModelForm fills its instance as it validates: a copy, so a refused correction leaves
    # the page showing the request as it is saved.
    correction = CorrectionForm(request.POST if do == "correct" else None, instance=copy(row))
    if request.method == "POST" and do == "ask":
        try:
            tasks = rights.ask_services(actor=request.user, row=row, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, ngettext(
                "%(count)d service is asked to prepare it: you will see here when it is done.",
                "%(count)d services are asked to prepare it: you will see here when each is "
                "done.", len(tasks)) % {"count": len(tasks)})  # fmt: skip
        return redirect("governance:rights-request", rights_request_uuid)
    form = {"answer": answer, "correct": correction}.get(do, extend)
    if request.method == "POST" and form.is_valid():
        try:
            if do == "correct":
                fields = {k: correction.cleaned_data[k] for k in rights.CORRECTABLE}
                rights.correct(actor=request.user, row=row, request=request,
                               why=correction.cleaned_data["why"], **fields)  # fmt: skip
                due = f"{row.due_on:%-d %B %Y}"
                messages.success(request, _("The details are corrected. The answer is due by "
                                            "%(day)s.") % {"day": due})  # fmt: skip
            elif do == "answer":
                rights.answer(actor=request.user, row=row, request=request, **answer.cleaned_data)
                messages.success(request, _("The answer is recorded and the request closed."))
            else:
                rights.extend(actor=request.user, row=row, request=request,
                              reason=extend.cleaned_data["extension_reason"])  # fmt: skip
                messages.success(request, _("Extended: the answer is now due by %(day)s. Tell "
                                            "the requester, with the reason.")
                                 % {"day": f"{row.due_on:%-d %B %Y}"})  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            return redirect("governance:rights-request", rights_request_uuid)
    return render(request, "governance/rights_request.html", {
        "row": row, "answer": answer, "extend": extend, "today": timezone.localdate(),
        "clock": None if row.responded_on else rules.clock_of(row.due_on, timezone.localdate()),
        "correction": correction,
        "asked": row.service_tasks.select_related("service", "completed_by").order_by(
            "service__name"),
    }, status=400 if answer.errors or extend.errors or correction.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
def override_summary(request):
    """Each service's emergency accesses in a month, and how their reviews stand: the
    monthly summary for the Caldicott guardian. This month unless another is asked."""
    this_month = timezone.localdate().replace(day=1)
    asked = request.GET.get("month", "")
    try:
        month = dt_date.fromisoformat(f"{asked}-01") if asked else this_month
    except ValueError:
        messages.error(request, _("Choose a month from the list."))
        month = this_month
    months = [rules.add_months(timezone.localdate().replace(day=1), -n) for n in range(13)]
    return render(request, "governance/override_summary.html", {
        "rows": selectors.monthly_summary(request.user, month), "month": month,
        "months": months,
    })  # fmt: skip


def _posted_organisation(request, organisations) -> Organisation:
    """The organisation a form names (by its uuid), among the admin's own."""
    found = next((o for o in organisations if str(o.uuid) == request.POST.get("organisation")),
                 None)  # fmt: skip
    if found is None:
        raise Http404("No such organisation of yours.")
    return found


def _nhs_organisations(user):
    return _my_organisations(user).filter(kind=Organisation.Kind.NHS_TRUST)


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def opt_outs(request):
    """The national data opt-out: for each NHS organisation of mine, its latest check and
    what to do next; a check started here; the students' own choices to export."""
    organisations = list(_nhs_organisations(request.user))
    answer = OptOutAnswerForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        org = _posted_organisation(request, organisations)
        try:
            if request.POST.get("do") == "start":
                started = optouts.start_check(actor=request.user, organisation=org,
                                                  request=request)  # fmt: skip
                messages.success(request, ngettext(
                    "%(count)d NHS number is ready to send: download it and send it to the "
                    "service from your MESH mailbox.",
                    "%(count)d NHS numbers are ready to send: download them and send them to the "
                    "service from your MESH mailbox.", len(started.numbers),
                ) % {"count": len(started.numbers)})  # fmt: skip
                return redirect("governance:opt-outs")
            if answer.is_valid():
                check = OptOutCheck.objects.filter(organisation=org, returned_at__isnull=True
                                                   ).first()  # fmt: skip
                if check is None:
                    raise ValidationError(_("Start a check first: there is none waiting."))
                text = answer.cleaned_data["file"].read().decode("utf-8", errors="replace")
                done = optouts.record_answer(
                    actor=request.user, check=check, text=text, request=request,
                    everyone_opted_out=answer.cleaned_data["everyone_opted_out"],
                )  # fmt: skip
                messages.success(request, _(
                    "Imported: %(out)d of %(all)d patients have opted out. Extracts leave "
                    "them out until %(until)s; check again before then."
                ) % {"out": len(done.opted_out), "all": len(done.numbers),
                     "until": f"{timezone.localtime(done.expires_at):%-d %B %Y}"})  # fmt: skip
                return redirect("governance:opt-outs")
        except ValidationError as error:
            add_errors(answer, error)
    rows = [(org, OptOutCheck.objects.filter(organisation=org).first(),
             OptOutCheck.objects.filter(organisation=org, returned_at__isnull=False).first())
            for org in organisations]  # fmt: skip
    return render(request, "governance/opt_outs.html", {
        "rows": rows, "answer": answer, "now": timezone.now(),
        "lasts": rules.OPT_OUT_CHECK_LASTS.days,
    }, status=400 if answer.errors else 200)  # fmt: skip


@login_required
@capability_required(is_org_admin)
def opt_out_sent(request, check_uuid):
    """The NHS numbers of a check, as the service takes them: one per line, each followed by
    a comma, LF line ends."""
    check = OptOutCheck.objects.filter(
        uuid=check_uuid, organisation__in=_nhs_organisations(request.user)
    ).first()
    if check is None:
        raise Http404("No such check.")
    optouts.record_download(actor=request.user, check=check, request=request)
    response = HttpResponse("".join(f"{n},\n" for n in check.numbers),
                            content_type="text/plain; charset=utf-8")  # fmt: skip
    name = f"{check.organisation.ods_code or 'joinedup'}-{check.sent_at:%d%m%y}.dat"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@capability_required(is_org_admin)
def opt_out_choices(request, organisation_uuid):
    """The NHS numbers of the organisation's patients who chose, in JoinedUp, to opt out:
    for the partner to record nationally. Audited."""
    org = _nhs_organisations(request.user).filter(uuid=organisation_uuid).first()
    if org is None:
        raise Http404("No such NHS organisation of yours.")
    numbers = list(optouts.portal_choices(org).values_list("nhs_number", flat=True))
    optouts.record_export(actor=request.user, organisation=org, count=len(numbers),
                          request=request)  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["nhs_number"])
    writer.writerows([n] for n in numbers)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="opt-outs-recorded-in-joinedup.csv"'
    return response


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def retention_view(request):
    """Each organisation of mine: its retention periods, the latest listing of what has
    passed them, and its erasure once confirmed."""
    organisations = list(_my_organisations(request.user))
    do = request.POST.get("do")
    period = RetentionForm(request.POST if do == "period" else None)
    if request.method == "POST":
        org = _posted_organisation(request, organisations)
        try:
            if do == "period" and period.is_valid():
                before = retention.set_period(actor=request.user, organisation=org,
                                              request=request, **period.cleaned_data)  # fmt: skip
                years = period.cleaned_data["years"]
                said = {"kind": Category(before.category).label,
                        "old": ngettext("%d year", "%d years", before.years) % before.years,
                        "new": ngettext("%d year", "%d years", years) % years}  # fmt: skip
                messages.success(request, (
                    _("%(kind)s: %(old)s → %(new)s, the default. The next daily listing uses it.")
                    if years == before.default_years
                    else _("%(kind)s: %(old)s → %(new)s. The next daily listing uses it; the "
                           "audit log keeps the change, with the reason given.")
                    if period.cleaned_data["why"].strip()
                    else _("%(kind)s: %(old)s → %(new)s. The next daily listing uses it; the "
                           "audit log keeps the change.")
                ) % said)  # fmt: skip
                return redirect("governance:retention")
            if do == "list":
                run = retention.list_due(org)
                messages.success(request, _("Nothing has passed its retention.") if run is None
                                 else _("Listed: check it below, then confirm."))  # fmt: skip
                return redirect("governance:retention")
            if do == "erase":
                run = RetentionRun.objects.filter(
                    organisation=org, uuid=request.POST.get("run"), confirmed_at__isnull=True
                ).first()
                if run is None:
                    raise ValidationError(_("That list has been replaced or erased already: "
                                            "check the latest one."))  # fmt: skip
                if request.POST.get("confirm") != "yes":
                    raise ValidationError(_("Tick the box to confirm the erasure."))
                count = retention.confirm(actor=request.user, run=run, request=request)
                messages.success(request, ngettext(
                    "%(count)d record erased. The audit log says what, and under which rule.",
                    "%(count)d records erased. The audit log says what, and under which rule.",
                    count) % {"count": count})  # fmt: skip
                return redirect("governance:retention")
        except ValidationError as error:
            if do == "period":
                add_errors(period, error)
            else:
                messages.error(request, " ".join(error.messages))
    rows = []
    for org in organisations:
        run = RetentionRun.objects.filter(organisation=org).first()
        listed = retention.listed_in(run) if run and not run.confirmed_at else []
        periods = [(period, retention.fate_of(period.category))
                   for period in retention.periods_of(org).values()]  # fmt: skip
        rows.append((org, periods, run, listed))
    return render(request, "governance/retention.html", {
        "rows": rows, "period": period,
        "categories": retention.LABELS,
    }, status=400 if period.errors else 200)  # fmt: skip
