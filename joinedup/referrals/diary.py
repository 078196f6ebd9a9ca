"""Reads of episodes, appointments and diaries, through the access policy.

An episode and its appointments are `engagement` data about the student, written by the
episode's service. Their pages open for a clinician of that service whose reading of the
student's identity and of that service's engagement rows the policy allows; otherwise 404,
as for anything missing. A diary belongs to a service: any member of it sees its clinicians'
time, and a student's name and what the appointment is only where the policy lets them read
them (a service manager sees the time taken and no one in it), each name shown audited; a
diary page takes the same number of queries however full it is.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from joinedup.consent.policy import (
    audit_listing,
    decide_many,
    readable_rows,
    readable_students,
    seats_of,
)
from joinedup.consent.rules import Decision
from joinedup.people.models import Membership, Service, User
from joinedup.referrals import rules
from joinedup.referrals.models import Appointment, AppointmentRequest, Episode, Referral
from joinedup.referrals.selectors import clinical_service_ids

REFUSED = Decision(False, "none", "")


def clinicians_of(service: Service) -> list[User]:
    """The service's clinicians (practitioners, triage and liaison workers): those its
    episodes are allocated to and appointments booked with, by name."""
    return list(
        User.objects.filter(
            memberships__service=service, memberships__role__in=rules.CLINICIAN_ROLES
        )
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )


def _waiting_requests():
    return Prefetch(
        "requests",
        queryset=AppointmentRequest.objects.filter(answered_at__isnull=True),
        to_attr="waiting_requests",
    )


def _readable(user, student, service_id: int, action: str, request) -> dict[str, Decision]:
    """The identity and engagement decisions (audited), or 404 unless both let the user
    read this service's rows about the student."""
    decisions = decide_many(
        user, student, ["identity", "engagement"], request=request, action=action, gate="identity"
    )
    if not (
        decisions["identity"].allowed
        and decisions.get("engagement", REFUSED).may_read_row(service_id)
    ):
        raise Http404("Not found.")
    return decisions


@dataclass
class EpisodeView:
    episode: Episode
    decisions: dict[str, Decision]
    may_act: bool  # still in the student's care, and the episode open
    referral: Referral | None
    appointments: list[Appointment]
    clinicians: list[User]


def get_episode_for_user(user, episode_uuid, *, request=None) -> EpisodeView:
    """An episode of one of the user's clinical services whose student the policy lets them
    read; else 404 (audited). A service that no longer works with the student reads it and
    acts no more."""
    episode = (
        Episode.objects.filter(uuid=episode_uuid, service_id__in=clinical_service_ids(user))
        .select_related("student__university", "service__organisation", "practitioner")
        .first()
    )
    if episode is None:
        raise Http404("No such episode.")
    decisions = _readable(
        user, episode.student, episode.service_id, "referrals.episode.read", request
    )
    appointments = list(
        episode.appointments.select_related("clinician").prefetch_related(_waiting_requests())
    )
    return EpisodeView(
        episode=episode,
        decisions=decisions,
        may_act=episode.is_open and decisions["identity"].basis != "authored",
        referral=Referral.objects.filter(episode=episode).select_related("from_service").first(),
        appointments=appointments,
        clinicians=clinicians_of(episode.service),
    )


@dataclass
class AppointmentView:
    appointment: Appointment
    decisions: dict[str, Decision]
    may_act: bool  # still in the student's care
    waiting: AppointmentRequest | None
    answered: list[AppointmentRequest]
    clinicians: list[User]


def get_appointment_for_user(user, appointment_uuid, *, request=None) -> AppointmentView:
    """An appointment of one of the user's clinical services, under the same rule as its
    episode (`get_episode_for_user`); else 404 (audited)."""
    appointment = (
        Appointment.objects.filter(
            uuid=appointment_uuid, episode__service_id__in=clinical_service_ids(user)
        )
        .select_related(
            "episode__student__university", "episode__service__organisation", "clinician"
        )
        .first()
    )
    if appointment is None:
        raise Http404("No such appointment.")
    episode = appointment.episode
    decisions = _readable(
        user, episode.student, episode.service_id, "referrals.appointment.read", request
    )
    requests = list(appointment.requests.select_related("answered_by").order_by("asked_at"))
    return AppointmentView(
        appointment=appointment,
        decisions=decisions,
        may_act=decisions["identity"].basis != "authored",
        waiting=next((r for r in requests if r.is_waiting), None),
        answered=[r for r in requests if not r.is_waiting],
        clinicians=clinicians_of(episode.service),
    )


def get_request_for_user(
    user, request_uuid, *, request=None
) -> tuple[AppointmentView, AppointmentRequest]:
    """A student's request about an appointment the user may open, with that appointment's
    view; else 404."""
    appointment_uuid = (
        AppointmentRequest.objects.filter(
            uuid=request_uuid, appointment__episode__service_id__in=clinical_service_ids(user)
        )
        .values_list("appointment__uuid", flat=True)
        .first()
    )
    if appointment_uuid is None:
        raise Http404("No such request.")
    view = get_appointment_for_user(user, appointment_uuid, request=request)
    asked = next(r for r in [*view.answered, view.waiting] if r and r.uuid == request_uuid)
    return view, asked


# Diaries ----------------------------------------------------------------------------------


def diary_services_of(user) -> list[int]:
    """The services whose diary the user sees: every service they are a member of."""
    return list(dict.fromkeys(s.service_id for s in seats_of(user) if s.service_id))


def services_with_clinician(clinician: User, among: list[int]) -> list[int]:
    """Those of the services `among` in which `clinician` is a clinician, in that order."""
    found = set(
        Membership.objects.filter(
            user=clinician, service_id__in=among, role__in=rules.CLINICIAN_ROLES
        ).values_list("service_id", flat=True)
    )
    return [pk for pk in among if pk in found]


@dataclass
class DiaryEntry:
    """An appointment as a diary shows it. What it says is worked out once per page (see
    `_entries`): a week of a service's diary shows hundreds, and template filters and
    `get_FOO_display` (which translates every choice's label on each call) cost more than
    the rest of the page."""

    appointment: Appointment
    shown: bool  # what it is and where (the service's engagement row, as the policy allows)
    named: bool  # the student's name (their identity, as the policy allows)
    may_open: bool  # the user may open its page and act on it
    url: str  # its page
    hours: str  # "09:00–09:50", local time
    kind: str
    status: str

    @property
    def waiting(self) -> AppointmentRequest | None:
        found = getattr(self.appointment, "waiting_requests", [])
        return found[0] if found else None


@dataclass
class DiaryRow:
    clinician: User | None  # None: appointments recorded before the diary named anyone
    cells: list[tuple[dt.date, list[DiaryEntry]]]  # each day, and its appointments


@dataclass
class Diary:
    service: Service
    days: list[dt.date]
    rows: list[DiaryRow]
    requests: list[DiaryEntry] = field(default_factory=list)  # students' requests waiting


def diary_for(
    user, service: Service, days: list[dt.date], *, clinician: User | None = None, request=None
) -> Diary:
    """The service's appointments on `days` (booked, attended or missed), one row per
    clinician (or only `clinician`'s), and the students' requests waiting for an answer.
    Names and details as the policy allows, each student named audited; constant queries."""
    start = timezone.make_aware(dt.datetime.combine(days[0], dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time.min))
    booked = Appointment.objects.filter(
        episode__service=service, starts_at__gte=start, starts_at__lt=end
    ).exclude(status=Appointment.Status.CANCELLED)
    if clinician is not None:
        booked = booked.filter(clinician=clinician)
    appointments = list(
        booked.select_related("episode__student", "clinician")
        .prefetch_related(_waiting_requests())
        .order_by("starts_at", "pk")
    )
    waiting = list(
        AppointmentRequest.objects.filter(
            answered_at__isnull=True, appointment__episode__service=service
        )
        .select_related("appointment__episode__student", "appointment__clinician")
        .order_by("asked_at")
    )
    if clinician is not None:
        waiting = [w for w in waiting if w.appointment.clinician_id == clinician.pk]
    for asked in waiting:
        asked.appointment.waiting_requests = [asked]
    entries = _entries(user, service, [*appointments, *(w.appointment for w in waiting)])
    audit_listing(
        user,
        [e.appointment.episode.student for e in entries.values() if e.named],
        action="referrals.diary.listed",
        reason=f"Listed in the diary of {service.name}.",
        request=request,
        categories=lambda student: ("identity", "engagement"),
    )
    people = [clinician] if clinician is not None else clinicians_of(service)
    return Diary(
        service=service,
        days=days,
        rows=_rows(people, [entries[a.pk] for a in appointments], days),
        requests=[entries[w.appointment.pk] for w in waiting],
    )


def _entries(user, service: Service, appointments: list[Appointment]) -> dict[int, DiaryEntry]:
    """Each appointment with what the user may see of it: two policy queries for them all.
    An appointment is shown as its episode is (the same service's engagement row about the
    same student), asked of the few hundred episodes rather than of every appointment."""
    students = sorted({a.episode.student_id for a in appointments})
    episodes = frozenset(a.episode_id for a in appointments)
    shown = set(
        readable_rows(
            user, "engagement", Episode.objects.filter(pk__any_of=episodes), among=students
        ).values_list("pk", flat=True)
    ) if episodes else set()  # fmt: skip
    named = (
        set(readable_students(user, "identity", among=students).values_list("pk", flat=True))
        if students
        else set()
    )
    may_open = service.pk in clinical_service_ids(user)
    # One reverse for them all: an appointment's page differs only by its uuid.
    page = reverse("referrals:appointment-detail", args=[_ANY_UUID])
    kinds = {value: str(label) for value, label in Appointment.Kind.choices}
    statuses = {value: str(label) for value, label in Appointment.Status.choices}
    here = timezone.get_current_timezone()
    return {
        a.pk: DiaryEntry(
            a,
            shown=a.episode_id in shown,
            named=a.episode.student_id in named,
            may_open=may_open and a.episode_id in shown,
            url=page.replace(str(_ANY_UUID), str(a.uuid)),
            hours=f"{a.starts_at.astimezone(here):%H:%M}–{a.ends_at.astimezone(here):%H:%M}",
            kind=kinds[a.kind],
            status=statuses[a.status],
        )
        for a in appointments
    }


_ANY_UUID = uuid.UUID(int=0)


def _rows(people: list[User], entries: list[DiaryEntry], days: list[dt.date]) -> list[DiaryRow]:
    """One row per clinician of the service, then one per other clinician found (someone who
    has left the service) and one for appointments naming no clinician."""
    order: dict[int | None, User | None] = {person.pk: person for person in people}
    for entry in entries:
        order.setdefault(entry.appointment.clinician_id, entry.appointment.clinician)
    index = {day: n for n, day in enumerate(days)}
    rows = {key: DiaryRow(person, [(day, []) for day in days]) for key, person in order.items()}
    for entry in entries:
        day = timezone.localtime(entry.appointment.starts_at).date()
        rows[entry.appointment.clinician_id].cells[index[day]][1].append(entry)
    return list(rows.values())


# The student's own ------------------------------------------------------------------------

RECENT = dt.timedelta(days=60)


def appointments_of_student(student) -> list[Appointment]:
    """The student's appointments from the last 60 days on, soonest first, with their
    requests (the student reads their own engagement whole)."""
    return list(
        Appointment.objects.filter(episode__student=student, starts_at__gte=timezone.now() - RECENT)
        .select_related("episode__service", "clinician")
        .prefetch_related(
            Prefetch("requests", queryset=AppointmentRequest.objects.order_by("asked_at"))
        )
        .order_by("starts_at", "pk")
    )


def get_own_appointment(student, appointment_uuid) -> Appointment:
    """One of the student's own appointments; else 404."""
    appointment = (
        Appointment.objects.filter(uuid=appointment_uuid, episode__student=student)
        .select_related("episode__service", "clinician")
        .first()
    )
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment
