"""The data protection review of emergency overrides, for organisation admins."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from joinedup.governance import selectors, services
from joinedup.governance.forms import ReviewForm
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
