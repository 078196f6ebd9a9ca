"""The service directory: search and filter every service in the hub, read one, edit one's own."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from joinedup.people.models import Organisation
from joinedup.referrals.directory import selectors, services
from joinedup.referrals.directory.forms import DirectoryEntryForm, DirectorySearchForm, initial_for
from joinedup.referrals.directory.permissions import can_edit_directory


@require_GET
def directory(request):
    """Every service in the hub, searchable and filterable: anyone may look, signed in or
    not (someone not yet registered finds a service here and refers themselves)."""
    form = DirectorySearchForm(request.GET)
    query, filters = form.search()
    found = selectors.directory_for(
        query, filters, timezone.now(), waits_by_service=selectors.recent_waits_by_service
    )
    return render(
        request,
        "referrals/directory/directory.html",
        {"directory": found, "query": query, "filters": filters,
         "kinds": Organisation.Kind.choices},
    )  # fmt: skip


@require_GET
def entry_detail(request, service_uuid):
    """One service's public listing (what it offers, how to reach it, its waits)."""
    listing = selectors.get_listing(
        service_uuid, timezone.now(), waits_by_service=selectors.recent_waits_by_service
    )
    can_edit = can_edit_directory(request.user, listing.service)
    return render(
        request,
        "referrals/directory/entry_detail.html",
        {"listing": listing, "entry": listing.entry, "can_edit": can_edit},
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request, service_uuid):
    """An organisation admin writes one of their services' directory entry."""
    service = selectors.get_service_for_editor(request.user, service_uuid)
    initial = initial_for(selectors.entry_of(service))
    form = DirectoryEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_directory_entry(
                actor=request.user, service=service, request=request, **form.values()
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Directory entry saved."))
            return redirect("referrals:directory-entry", service.uuid)
    return render(
        request, "referrals/directory/entry_form.html", {"form": form, "service": service}
    )
