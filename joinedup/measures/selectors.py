"""Reads of questionnaires, always through the access policy (category `outcomes`)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from joinedup.consent.policy import (
    audit_listing,
    decide_many,
    find_student,
    service_ids_of,
)
from joinedup.consent.rules import Decision
from joinedup.measures import instruments, outcomes
from joinedup.measures.models import Administration, LicensedItemText, RoutineMeasure
from joinedup.measures.rules import covering_episode, due_session
from joinedup.record.selectors import withheld_section
from joinedup.referrals.models import Episode


@dataclass
class Trajectory:
    """One measure's scores for one student, oldest first, with what a chart needs."""

    instrument: instruments.Instrument
    administrations: list

    @property
    def scored(self) -> list:
        return [a for a in self.administrations if a.is_valid]

    @property
    def change(self):
        scored = self.scored
        if len(scored) < 2 or self.instrument.reliable_change is None:
            return None
        return outcomes.reliable_change(
            self.instrument.code, scored[0].main_score, scored[-1].main_score
        )

    def kind_chart(self) -> dict:
        """The student's chart: their scores, lightly shaded, without clinical labels."""
        chart = self.chart()
        chart["bands"] = [band | {"label": ""} for band in chart["bands"]]
        return chart | {"cutoff": None, "reliable": None, "words": {"score": _("Score")}}

    def chart(self) -> dict:
        """The chart's data: points, band shading, cut-off and the reliable-change band
        around the first score."""
        instrument, scored = self.instrument, self.scored
        bands = list(instrument.bands)
        rci = instrument.reliable_change
        first = scored[0].main_score if scored else None
        return {
            "code": instrument.code,
            "min": instrument.score_min,
            "max": instrument.score_max,
            "cutoff": instrument.caseness_cutoff,
            "bands": [
                {
                    "label": b.label,
                    "from": b.lower,
                    "to": bands[i + 1].lower if i + 1 < len(bands) else instrument.score_max,
                }
                for i, b in enumerate(bands)
            ],
            "reliable": None
            if rci is None or first is None
            else {
                "from": max(first - rci, instrument.score_min),
                "to": min(first + rci, instrument.score_max),
            },
            "points": [{"label": _point_label(a), "score": round(a.main_score, 1)} for a in scored],
            # The chart's own words, in the reader's language.
            "words": {"score": _("Score"), "cutoff": _("Clinical cut-off")},
        }


def _point_label(administration: Administration) -> str:
    day = date_format(timezone.localtime(administration.completed_at), "j M Y")
    if not administration.session_number:
        return day
    return _("Session %(number)s (%(day)s)") % {
        "number": administration.session_number, "day": day}  # fmt: skip


@dataclass
class DueEpisode:
    episode: Episode
    session_number: int
    codes: list[str]


@dataclass
class OutcomesView:
    student: object
    decision: Decision
    trajectories: list[Trajectory] = field(default_factory=list)
    due: list[DueEpisode] = field(default_factory=list)
    withheld: object = None  # a record Section naming who holds what is not shown


def get_outcomes_for_user(user, student_uuid, *, request=None) -> OutcomesView:
    """A student's questionnaires as `user` may see them; 404 unless the policy allows
    both their identity and their outcomes (missing and forbidden look the same).

    A care relationship alone shows only the user's own services' questionnaires; consent or
    emergency access shows every service's; the student sees all of their own.
    """
    student = find_student(student_uuid)
    decisions = decide_many(
        user,
        student,
        ["identity", "outcomes"],
        request=request,
        action="measures.outcomes.read",
        gate="identity",
    )
    if not all(d.allowed for d in decisions.values()) or len(decisions) < 2:
        raise Http404("No such student.")
    view = OutcomesView(student=student, decision=decisions["outcomes"])
    if view.decision.basis != "self":
        view.withheld = withheld_section(student, "outcomes", view.decision)
    administrations = view.decision.rows(
        Administration.objects.filter(student=student).select_related("service")
    )
    by_code = defaultdict(list)
    for administration in administrations:
        by_code[administration.code].append(administration)
    view.trajectories = [
        Trajectory(instrument, by_code[instrument.code])
        for instrument in instruments.all_instruments()
        if by_code[instrument.code]
    ]
    if view.decision.basis != "self":
        view.due = due_for(
            Episode.objects.open()
            .filter(student=student, service_id__in=service_ids_of(user))
            .select_related("service")
        )
    return view


def due_for(episodes) -> list[DueEpisode]:
    """Which routine questionnaires each open episode is due, in two queries."""
    episodes = list(episodes)
    routine = defaultdict(set)
    for service_id, code in RoutineMeasure.objects.filter(
        service_id__in={e.service_id for e in episodes}
    ).values_list("service_id", "code"):
        routine[service_id].add(code)
    recorded = defaultdict(lambda: defaultdict(set))
    for episode_id, session, code in Administration.objects.filter(
        episode__in=episodes, session_number__isnull=False
    ).values_list("episode_id", "session_number", "code"):
        recorded[episode_id][session].add(code)
    due = []
    for episode in episodes:
        session, codes = due_session(routine[episode.service_id], recorded[episode.pk])
        due.append(DueEpisode(episode, session, codes))
    return due


WORKLIST_PAGE_SIZE = 25


def worklist_for(user, *, page_number=None, request=None) -> Page:
    """Questionnaires due across my services' open episodes, a page at a time, in a
    constant number of queries. The names a page lists are audited per student."""
    service_ids = service_ids_of(user)
    episodes = (
        Episode.objects.open()
        .filter(service_id__in=service_ids)
        .select_related("student", "service")
        .order_by("student__preferred_name", "student__legal_family_name", "pk")
    )
    due = [d for d in due_for(episodes) if d.codes]
    page = Paginator(due, WORKLIST_PAGE_SIZE).get_page(page_number)
    audit_listing(
        user,
        [d.episode.student for d in page],
        action="measures.worklist.listed",
        reason="Listed on the questionnaire worklist.",
        request=request,
        categories=lambda student: ("outcomes",),
    )
    return page


def get_episode_for_user(user, episode_uuid) -> Episode:
    """An open episode of one of the user's services, or 404."""
    episode = (
        Episode.objects.open()
        .filter(uuid=episode_uuid, service_id__in=service_ids_of(user))
        .select_related("student", "service")
        .first()
    )
    if episode is None:
        raise Http404("No such episode.")
    return episode


def filing_episodes(service, dated: Sequence[tuple[int, dt.datetime]]) -> list[Episode | None]:
    """Where each questionnaire is filed: for each (student id, completion moment), that
    student's episode at `service` whose dates cover the moment (`rules.covering_episode`),
    or None. Every writer of questionnaires files through this, so late data never rewrites
    an episode. It reads for a writer and returns nothing to a user, so it takes none."""
    student_ids = sorted({student_id for student_id, _moment in dated})
    episodes = defaultdict(list)
    # Every episode of these students at the service (a student has few): the dates are
    # left to the rule alone, so that it is the one place they are compared.
    for start in range(0, len(student_ids), _CHUNK):
        for episode in Episode.objects.filter(
            service=service, student_id__in=student_ids[start : start + _CHUNK]
        ):
            episodes[episode.student_id].append(episode)
    return [covering_episode(episodes[student_id], moment) for student_id, moment in dated]


def filing_episode(student, service, moment: dt.datetime) -> Episode | None:
    """The episode of `student` at `service` a questionnaire completed at `moment` is filed
    under, or None (see `filing_episodes`)."""
    return filing_episodes(service, [(student.pk, moment)])[0]


# SQLite allows 999 parameters in one query.
_CHUNK = 900


def item_texts(instrument) -> dict[int, str]:
    """Each item's text: shipped where the licence allows, else loaded by a licensed
    service (`joinedup load_item_texts`), else a plain label."""
    loaded = dict(LicensedItemText.objects.filter(code=instrument.code).values_list("item", "text"))
    return {
        item.number: item.text or loaded.get(item.number) or f"Item {item.number}"
        for item in instrument.items
    }
