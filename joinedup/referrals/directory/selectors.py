"""Reading the service directory: search, filters, open now and the typical wait.

A hub's directory holds tens to a few hundred services, and none of it is personal data. One
query fetches every service with its organisation and entry; the search and filters then run
in Python, where the opening-hours rule and the JSON lists (topics, referral sources) behave
the same on SQLite and PostgreSQL. The page's query count does not grow with the directory.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils import timezone

from joinedup.people.models import Service
from joinedup.referrals.directory import rules
from joinedup.referrals.directory.permissions import can_edit_directory
from joinedup.referrals.models import DirectoryEntry, Referral

UK = ZoneInfo("Europe/London")

# Recent waits (days from referral sent to first contact) of each service, by service id:
# either the mapping itself or a function given the ids of the services listed.
WaitsByService = (
    Mapping[int, Sequence[int]] | Callable[[Collection[int]], Mapping[int, Sequence[int]]]
)


@dataclass(frozen=True)
class DirectoryFilters:
    """What the person searching ticked; empty sets mean "any"."""

    is_open_now: bool = False
    accepts_self_referral: bool = False
    topics: frozenset[str] = frozenset()
    organisation_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Listing:
    """One service as the directory shows it. `entry` is None until the service writes one."""

    service: Service
    entry: DirectoryEntry | None
    is_open_now: bool
    typical_wait_days: int | None


@dataclass(frozen=True)
class Directory:
    listings: list[Listing]
    # Every topic in use across the whole directory, for the filter's checkboxes.
    topics: list[str] = field(default_factory=list)
    total: int = 0


def recent_waits_by_service(service_ids: Collection[int]) -> dict[int, list[int]]:
    """Waits of referrals these services first contacted in the last year, in days from
    referral sent to first contact, in one query."""
    since = timezone.now() - timedelta(days=365)
    waits: dict[int, list[int]] = {}
    for service_id, sent, contacted in Referral.objects.filter(
        to_service_id__in=list(service_ids), first_contact_at__gte=since, sent_at__isnull=False
    ).values_list("to_service_id", "sent_at", "first_contact_at"):
        waits.setdefault(service_id, []).append((contacted.date() - sent.date()).days)
    return waits


def directory_for(
    query: str,
    filters: DirectoryFilters,
    now: datetime,
    waits_by_service: WaitsByService | None = None,
) -> Directory:
    """The services matching a search and filters, in organisation and name order.

    `query` matches, word by word and ignoring case, the service's name, organisation, purpose,
    who it is for, eligibility and topics. Filters combine with "and"; the topics ticked, and
    the organisation kinds, each combine with "or". `now` (aware) decides "open now" in UK time.

    `waits_by_service` supplies each service's recent waits (days from referral sent to first
    contact), from which the typical wait is computed (`rules.typical_wait_days`, None under
    five waits): a mapping of service id → waits, or a function called once with the ids of
    the services listed that returns such a mapping (so it can be one query). Default: none.
    """
    services = _services()
    listed = [s for s in services if _matches(s, query, filters)]
    listings = _listings(listed, now, waits_by_service, keep_open_only=filters.is_open_now)
    topics = sorted({t for s in services if entry_of(s) for t in entry_of(s).topics})
    return Directory(listings=listings, topics=topics, total=len(services))


def get_listing(
    service_uuid, now: datetime, waits_by_service: WaitsByService | None = None
) -> Listing:
    """One service's directory listing, or Http404. `waits_by_service` as in `directory_for`."""
    service = (
        Service.objects.select_related("organisation", "directory_entry")
        .filter(uuid=service_uuid)
        .first()
    )
    if service is None:
        raise Http404
    return _listings([service], now, waits_by_service)[0]


def _services() -> list[Service]:
    return list(Service.objects.select_related("organisation", "directory_entry"))


def entry_of(service: Service) -> DirectoryEntry | None:
    """The service's directory entry, or None when it has not written one yet."""
    try:
        return service.directory_entry
    except DirectoryEntry.DoesNotExist:
        return None


def _matches(service: Service, query: str, filters: DirectoryFilters) -> bool:
    entry = entry_of(service)
    kinds = filters.organisation_kinds
    if kinds and service.organisation.kind not in kinds:
        return False
    if filters.accepts_self_referral and not (entry and entry.accepts_self_referral):
        return False
    if filters.topics and not (entry and filters.topics.intersection(entry.topics)):
        return False
    terms = rules.search_terms(query)
    if not terms:
        return True
    haystack = [service.name, service.organisation.name]
    if entry:
        haystack += [entry.purpose, entry.who_for, entry.eligibility, *entry.topics]
        haystack += [entry.welsh.get(name, "") for name in ("purpose", "who_for", "eligibility")]
    text = "\n".join(haystack).casefold()
    return all(any(said in text for said in term) for term in terms)


def _listings(
    services: list[Service],
    now: datetime,
    waits_by_service: WaitsByService | None,
    *,
    keep_open_only: bool = False,
) -> list[Listing]:
    now_local = now.astimezone(UK)
    entries = {service.pk: entry_of(service) for service in services}
    is_open = {
        pk: entry is not None and rules.is_open(entry.opening_hours, now_local)
        for pk, entry in entries.items()
    }
    if keep_open_only:
        services = [service for service in services if is_open[service.pk]]
    if callable(waits_by_service):
        waits_by_service = waits_by_service([service.pk for service in services])
    waits = waits_by_service or {}
    return [
        Listing(
            service=service,
            entry=entries[service.pk],
            is_open_now=is_open[service.pk],
            typical_wait_days=rules.typical_wait_days(list(waits.get(service.pk, ()))),
        )
        for service in services
    ]


def get_service_for_editor(user, service_uuid) -> Service:
    """The service whose entry `user` may edit, or Http404.

    Missing and forbidden look the same: anyone who is not an admin of the service's own
    organisation gets a 404, whether or not they work there.
    """
    service = (
        Service.objects.select_related("organisation", "directory_entry")
        .filter(uuid=service_uuid)
        .first()
    )
    if service is None or not can_edit_directory(user, service):
        raise Http404
    return service
