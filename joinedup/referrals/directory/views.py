"""The service directory: search and filter every service in the hub, read one, edit one's own."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from joinedup.people.models import Organisation
from joinedup.referrals.directory import help_now, rules, selectors, services
from joinedup.referrals.directory.forms import (
    DirectoryEntryForm,
    DirectorySearchForm,
    HelpNowForm,
    initial_for,
)
from joinedup.referrals.directory.permissions import can_edit_directory
from joinedup.referrals.directory.selectors import DirectoryFilters


@require_GET
def help_now_page(request):
    """Numbers to call or text now, and the local ones from the directory: linked from the
    header of every page, open to anyone, signed in or not."""
    form = HelpNowForm(request.GET or None)
    chosen = form.cleaned_data.get("university") if form.is_valid() else None
    university = chosen or help_now.university_of(request.user)
    if university is not None and not chosen:
        form = HelpNowForm(initial={"university": university.uuid})
    return render(
        request,
        "referrals/directory/help_now.html",
        {"help": help_now.help_now_for(university), "form": form},
    )


@require_GET
def directory(request):
    """Every service in the hub, searchable and filterable: anyone may look, signed in or
    not (someone not yet registered finds a service here and refers themselves)."""
    form = DirectorySearchForm(request.GET)
    query, filters = form.search()
    found = selectors.directory_for(
        query, filters, timezone.now(), waits_by_service=selectors.recent_waits_by_service
    )
    crisis = rules.reads_like_crisis(query)
    query_found = bool(found.listings)
    if crisis and not query_found:  # words of crisis that name no service: the crisis ones
        found = selectors.directory_for(
            "", DirectoryFilters(topics=frozenset({help_now.CRISIS_TOPIC})), timezone.now(),
            waits_by_service=selectors.recent_waits_by_service,
        )  # fmt: skip
    return render(
        request,
        "referrals/directory/directory.html",
        {"directory": found, "query": query, "filters": filters,
         "kinds": Organisation.Kind.choices,
         "help": help_now.help_now_for(help_now.university_of(request.user)) if crisis else None,
         "crisis_services": crisis and not query_found},
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
