"""What organisation admins run: the data protection review of emergency overrides, and
the search and verification of the audit log."""

import csv
import io
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import verify_audit_chain
from joinedup.consent.models import Category, Purpose
from joinedup.governance import rules, selectors, services
from joinedup.governance.forms import AgreementForm, AuditSearchForm, ReviewForm, SuspendForm
from joinedup.people.models import Role
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
    search = selectors.AuditSearch(**form.cleaned_data)
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
        "form": form, "page": page, "searched": True,
        "rows": [(e, selectors.read_in_words(e), selectors.reason_of(e)) for e in page],
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
            selectors.read_in_words(e), e.category, e.get_basis_display(), selectors.reason_of(e),
            e.action,
        )])  # fmt: skip
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@capability_required(is_org_admin)
@require_http_methods(["GET", "POST"])
def audit_verify(request):
    """Check the whole chain, as `joinedup verify_audit` does, and name its first break."""
    if request.method == "GET":
        return render(request, "governance/audit_verify.html")
    verification = verify_audit_chain()
    services.record_verification(actor=request.user, verification=verification, request=request)
    return render(request, "governance/audit_verify.html", {"verification": verification})


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
def agreement(request, agreement_uuid):
    facts = selectors.agreement_of(request.user, agreement_uuid)
    if facts is None:
        raise Http404("No such agreement.")
    suspend = SuspendForm(request.POST if request.POST.get("do") == "suspend" else None)
    if request.method == "POST":
        side = next((s for s in facts.mine if str(s.organisation.uuid) == request.POST.get("side")),
                    None)  # fmt: skip
        if side is None:
            raise Http404("Your organisation is not party to this agreement.")
        activate = request.POST.get("do") == "activate"
        if activate or suspend.is_valid():
            services.set_agreement_side(
                actor=request.user, agreement=facts.agreement, organisation=side.organisation,
                active=activate, note="" if activate else suspend.cleaned_data["note"],
                request=request,
            )  # fmt: skip
            done = (_("Activated for %(org)s.") if activate else _(
                "Suspended for %(org)s: nothing is shared under it from now on."
            ))  # fmt: skip
            messages.success(request, done % {"org": side.organisation.name})
            return redirect("governance:agreement", agreement_uuid)
    changes = facts.agreement.changes.select_related("organisation", "by")
    return render(request, "governance/agreement.html", {
        "facts": facts, "suspend": suspend, "changes": changes,
        "categories": [Category(c).label for c in facts.agreement.categories if c in Category],
        "purposes": [Purpose(p).label for p in facts.agreement.purposes if p in Purpose],
    }, status=400 if suspend.errors else 200)  # fmt: skip
