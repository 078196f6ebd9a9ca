"""Writes of the evaluation app: research extracts, saved reports and evaluation projects.

Research extracts are run by researchers and service managers only, over the services they
may report on (`reports.report_services_for`: a researcher the whole hub, a service manager
their own organisation's); each run, its completion and each download is written to the
audit log. Evaluation projects and saved reports belong to the organisation of the person
who made them, and are shared with its researchers and service managers; a saved report only
with those who may report on all of its services, and each opening or download of one is
audited like a run of the live report.

Extract rows are built here from the database and made safe by the pure rules in
`joinedup.evaluation.research`.
"""

import logging
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import append
from joinedup.consent.policy import seats_of
from joinedup.evaluation import reports, research
from joinedup.evaluation.models import EvaluationProject, ResearchExtract, SavedReport
from joinedup.governance.optouts import national_opt_outs
from joinedup.measures.instruments import CODES
from joinedup.measures.models import Administration
from joinedup.measures.outcomes import episode_outcome
from joinedup.people.models import Organisation
from joinedup.referrals.models import Episode

logger = logging.getLogger(__name__)

EVALUATION_ROLES = reports.EVALUATION_ROLES
# The national data opt-out covers data from NHS care: trusts and GP practices.
NHS_KINDS = frozenset({Organisation.Kind.NHS_TRUST, Organisation.Kind.GP_PRACTICE})
DEFAULT_K = 5
_CHUNK = 2000


def can_evaluate(user) -> bool:
    """Researchers and service managers run extracts, save reports and record evaluations
    (the same people who run service reports)."""
    return reports.can_run_reports(user)


def evaluation_organisation_ids(user) -> set[int]:
    """The organisations in which `user` is a researcher or a service manager."""
    return {s.organisation_id for s in seats_of(user) if s.role in EVALUATION_ROLES}


def extract_services_for(user):
    """The services whose episodes `user` may extract: the ones they may report on (a
    researcher any service of the hub, a service manager their own organisation's)."""
    return reports.report_services_for(user)


_entry = reports.evaluation_entry


# --- Research extracts ---------------------------------------------------------------------


def start_extract(
    *, actor, starts_on: date, ends_on: date, services, k: int = DEFAULT_K, request=None,
    approved_under=None, approval: str = "",
) -> ResearchExtract:  # fmt: skip
    """Record and audit a research extract, and queue it to be built in the background."""
    if not can_evaluate(actor):
        raise ValidationError(_("Only researchers and service managers can run extracts."))
    research.pseudonym_key()  # refuse now, clearly, rather than fail in the background
    if starts_on >= ends_on:
        raise ValidationError(_("The end of the period must be after its start."))
    if k < 2:
        raise ValidationError(_("k must be at least 2."))
    services = list(services)
    if not services:
        raise ValidationError(_("Choose at least one service."))
    allowed = set(extract_services_for(actor).values_list("pk", flat=True))
    if any(s.pk not in allowed for s in services):
        raise ValidationError(_("You can only extract data from services you may report on."))
    minimum = settings.RESEARCH_MIN_K
    if problem := research.k_problem(k, minimum, agreement=approved_under is not None,
                                     approval=approval):  # fmt: skip
        raise ValidationError({"k": problem})
    if k >= minimum:
        approved_under, approval = None, ""
    elif not (
        approved_under.in_force_on(timezone.localdate())
        and approved_under.sides.filter(
            organisation__in={s.organisation_id for s in services}).exists()
    ):  # fmt: skip
        raise ValidationError({"approved_under": _(
            "That agreement is not in force between the organisations of these services."
        )})  # fmt: skip
    with transaction.atomic():
        extract = ResearchExtract.objects.create(
            requested_by=actor, starts_on=starts_on, ends_on=ends_on, k=k,
            approved_under=approved_under, approval=approval.strip(),
        )  # fmt: skip
        extract.services.set(services)
        append(
            [
                _entry(
                    actor,
                    "evaluation.extract.run",
                    f"Research extract {extract.uuid}: episodes from {starts_on} to {ends_on} "
                    f"at {', '.join(s.name for s in services)}; k = {k}.",
                    request,
                )
            ]
        )
        from joinedup.evaluation import tasks

        transaction.on_commit(lambda: tasks.build_extract.enqueue(extract.pk))
    return extract


def get_extract_for_user(user, extract_uuid) -> ResearchExtract:
    """The extract, if `user` ran it; else 404. Nobody else, however senior, may see it."""
    extract = ResearchExtract.objects.filter(uuid=extract_uuid, requested_by=user).first()
    if extract is None or not user.is_authenticated:
        raise Http404("No such extract.")
    return extract


def record_download(*, actor, extract: ResearchExtract, request=None) -> None:
    """Audit one download of an extract's files."""
    append(
        [
            _entry(
                actor, "evaluation.extract.downloaded", f"Research extract {extract.uuid}.", request
            )
        ]
    )


def extract_file(extract: ResearchExtract):
    """The path of the extract's zip, or None when it has not been written (or was removed)."""
    if not extract.file_path:
        return None
    path = settings.VAR_DIR / extract.file_path
    return path if path.is_file() else None


def remove_old_extract_files(*, before, dry_run: bool = False) -> list[ResearchExtract]:
    """Delete the files of extracts finished before `before`: a download is meant to be
    taken away and kept under the researcher's own data agreement, not left on the server.
    The run, its parameters and its release note stay on record."""
    old = list(ResearchExtract.objects.filter(finished_at__lt=before).exclude(file_path=""))
    if dry_run:
        return old
    for extract in old:
        shutil.rmtree(settings.VAR_DIR / "extracts" / str(extract.uuid), ignore_errors=True)
        extract.file_path = ""
        extract.save(update_fields=["file_path"])
    return old


def _set_progress(extract_id: int, progress: int, stage: str, **fields) -> None:
    ResearchExtract.objects.filter(pk=extract_id).update(progress=progress, stage=stage, **fields)


def build_extract(extract_id: int) -> None:
    """Build an extract's files, reporting progress as it goes (called by the task)."""
    claimed = ResearchExtract.objects.filter(
        pk=extract_id, status=ResearchExtract.Status.QUEUED
    ).update(status=ResearchExtract.Status.RUNNING, progress=5, stage=_("Reading episodes"))
    if not claimed:
        return  # already built, or being built by another worker
    extract = ResearchExtract.objects.select_related("requested_by").get(pk=extract_id)
    directory = settings.VAR_DIR / "extracts" / str(extract.uuid)
    try:
        rows, note = extract_rows(extract, research.pseudonym_key(), progress=_progress(extract))
        _set_progress(extract_id, 90, _("Writing CSV and Parquet files"))
        zip_path = research.write_extract(rows, note, directory)
    except Exception:
        logger.exception("Research extract %s failed", extract.uuid)
        shutil.rmtree(directory, ignore_errors=True)
        _set_progress(
            extract_id,
            extract.progress,
            "",
            status=ResearchExtract.Status.FAILED,
            error=_("The extract could not be produced. Try again, or tell your administrator."),
            finished_at=timezone.now(),
        )
        return
    with transaction.atomic():
        _set_progress(
            extract_id,
            100,
            _("Done"),
            status=ResearchExtract.Status.DONE,
            release_note=note,
            file_path=str(zip_path.relative_to(settings.VAR_DIR)),
            finished_at=timezone.now(),
        )
        append(
            [
                _entry(
                    extract.requested_by,
                    "evaluation.extract.produced",
                    f"Research extract {extract.uuid}: "
                    f"{research.counted(note['rows'], 'episode')} of "
                    f"{research.counted(note['students'], 'student')} released; "
                    f"{research.counted(note['suppressed']['students'], 'student')} "
                    "suppressed; "
                    f"{research.counted(note['opted_out']['students'], 'student')} left out "
                    "by the national data opt-out.",
                )
            ]
        )


def _progress(extract: ResearchExtract):
    def report(fraction: float, stage: str) -> None:
        _set_progress(extract.pk, 5 + round(80 * fraction), stage)

    return report


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _weeks(start, end) -> int | None:
    return (end - start).days // 7 if start and end else None


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


@dataclass
class _EpisodeFacts:
    row: dict
    episode_id: int
    student_id: int
    started_on: date
    date_of_birth: date
    quasi: dict


def extract_rows(
    extract: ResearchExtract, key: bytes, *, progress=lambda f, s: None, using: str = "reports"
):
    """The extract's rows (one per episode of care started in the period at the chosen
    services) and its release note, with opt-outs left out and k-anonymity enforced.

    Episodes and scores are read through the `reports` database alias, as the service
    reports are (it can point at a read replica); the extract's own record, written by this
    app, is read from the default database."""
    service_ids = list(extract.services.values_list("pk", flat=True))
    episodes = (
        Episode.objects.using(using)
        .filter(
            service_id__in=service_ids,
            started_at__gte=_aware(extract.starts_on),
            started_at__lt=_aware(extract.ends_on),
        )
        .annotate(
            attended=Count("appointments", filter=Q(appointments__status="attended")),
            missed=Count("appointments", filter=Q(appointments__status="missed")),
        )
        .values(
            "pk", "student_id", "started_at", "ended_at", "ending", "attended", "missed",
            "service__name", "service__kind", "service__organisation__kind",
            "student__date_of_birth", "student__gender", "student__ethnicity_group",
            "student__disability", "student__is_international", "student__university__name",
            "student__national_data_opt_out", "student__nhs_number", "referral__source",
            "referral__sent_at",
            "referral__first_contact_at", "referral__treatment_started_at",
        )
        .order_by("pk")
    )  # fmt: skip
    kept: list[_EpisodeFacts] = []
    zone = timezone.get_current_timezone()
    opted_out_rows, opted_out_students = 0, set()
    national = national_opt_outs()
    for e in episodes:
        opted_out = (
            e["student__national_data_opt_out"] or e["student__nhs_number"] in national.numbers
        )
        if opted_out and e["service__organisation__kind"] in NHS_KINDS:
            opted_out_rows += 1
            opted_out_students.add(e["student_id"])
            continue
        kept.append(_episode_facts(e, key, zone))
    progress(0.2, _("Reading questionnaires"))
    _add_outcomes(kept, progress, using)

    progress(0.9, _("Checking k-anonymity"))
    first_start: dict[int, date] = {}
    for facts in kept:  # episodes are in id order, not date order
        known = first_start.get(facts.student_id)
        first_start[facts.student_id] = min(known, facts.started_on) if known else facts.started_on
    quasis, subjects = [], defaultdict(list)
    for facts in kept:
        age = research.age_on(facts.date_of_birth, first_start[facts.student_id])
        values = facts.row | facts.quasi | {"age_band": research.age_band(age)}
        quasi = tuple(values[q] for q in research.QUASI_IDENTIFIER_COLUMNS)
        quasis.append(quasi)
        subjects[facts.student_id].append(quasi)
    anonymised = research.k_anonymise(subjects, extract.k)
    rows = []
    for facts, quasi in zip(kept, quasis, strict=True):
        steps = anonymised.steps.get(facts.student_id)
        if steps is not None:
            shown = research.generalise(quasi, steps)
            months = {
                column: research.month_as_shown(facts.row[column], steps)
                for column in ("episode_start_month", "episode_end_month")
            }
            rows.append(
                facts.row
                | months
                | dict(zip(research.QUASI_IDENTIFIER_COLUMNS, shown, strict=True))
            )
    note = _release_note(extract, kept, anonymised, opted_out_rows, opted_out_students)
    note["quasi_identifiers"] = research.generalised_by_quasi_identifier(
        (facts.student_id, quasi, anonymised.steps[facts.student_id])
        for facts, quasi in zip(kept, quasis, strict=True)
        if facts.student_id in anonymised.steps
    )
    note["opted_out"] |= {
        "checked": {name: f"{until:%Y-%m-%d}" for name, until in national.current.items()},
        "not_checked": national.missing,
    }
    return rows, note


def _episode_facts(e: dict, key: bytes, zone) -> _EpisodeFacts:
    """One episode's row, in UK months (`zone`, looked up once for the whole extract)."""
    sent = e["referral__sent_at"]
    ended = e["ended_at"]
    row = {
        "pseudonym": research.pseudonym(e["student_id"], key),
        "service": e["service__name"],
        "service_kind": e["service__kind"],
        "organisation_kind": e["service__organisation__kind"],
        "referral_source": e["referral__source"] or "",
        "referral_month": research.month_of(sent.astimezone(zone) if sent else None),
        "weeks_to_first_contact": _weeks(sent, e["referral__first_contact_at"]),
        "weeks_to_treatment": _weeks(sent, e["referral__treatment_started_at"]),
        "episode_start_month": research.month_of(e["started_at"].astimezone(zone)),
        "episode_end_month": research.month_of(ended.astimezone(zone) if ended else None),
        "ending": e["ending"] or "open",
        "appointments_attended": e["attended"],
        "appointments_missed": e["missed"],
    }
    quasi = {
        "institution": e["student__university__name"],
        "gender": e["student__gender"] or research.NOT_RECORDED,
        "ethnicity_group": e["student__ethnicity_group"] or research.NOT_RECORDED,
        "disability": e["student__disability"] or research.NOT_RECORDED,
        "international": _yes_no(e["student__is_international"]),
    }
    return _EpisodeFacts(
        row=row,
        episode_id=e["pk"],
        student_id=e["student_id"],
        started_on=e["started_at"].astimezone(zone).date(),
        date_of_birth=e["student__date_of_birth"],
        quasi=quasi,
    )


def _add_outcomes(kept: list[_EpisodeFacts], progress, using: str) -> None:
    """First and last scores of every measure, and the Talking Therapies flags of ended
    episodes, read in chunks so memory and progress stay steady on a hub-sized extract."""
    by_id = {facts.episode_id: facts for facts in kept}
    episode_ids = list(by_id)
    for start in range(0, len(episode_ids), _CHUNK):
        chunk = episode_ids[start : start + _CHUNK]
        sessions: dict[int, dict] = defaultdict(dict)
        administrations = (
            Administration.objects.using(using)
            .filter(episode_id__in=chunk, is_valid=True, code__in=CODES)
            .order_by("episode_id", "completed_at", "pk")
            .values_list("episode_id", "session_number", "completed_at", "code", "main_score")
        )
        for episode_id, number, completed_at, code, score in administrations:
            session = number if number is not None else completed_at.date()
            sessions[episode_id].setdefault(session, {})[code] = score
        for episode_id in chunk:
            _set_outcome(by_id[episode_id].row, list(sessions[episode_id].values()))
        progress(0.2 + 0.7 * (start + len(chunk)) / len(episode_ids), _("Reading questionnaires"))


def _set_outcome(row: dict, sessions: list[dict]) -> None:
    """A row's first and last score on each measure (`research.MEASURE_COLUMNS`) and its
    NHS Talking Therapies flags (from the PHQ-9 and GAD-7 only)."""
    for code in CODES:
        scores = [s[code] for s in sessions if s.get(code) is not None]
        prefix = research.measure_column(code)
        row[f"{prefix}_first"] = scores[0] if scores else None
        row[f"{prefix}_last"] = scores[-1] if len(scores) > 1 else None
    outcome = episode_outcome(sessions) if row["ending"] != "open" else None
    paired = bool(outcome and outcome.finished_treatment and outcome.has_paired_scores)
    row["has_paired_outcome"] = paired if outcome else None
    for flag in ("recovery", "reliable_improvement", "reliable_deterioration", "reliable_recovery"):
        row[flag] = getattr(outcome, flag) if outcome else None


def _release_note(extract, kept, anonymised, opted_out_rows, opted_out_students) -> dict:
    """What the release note says, as data (written out by `research.release_note_text`)."""
    rows_of = defaultdict(int)
    for facts in kept:
        rows_of[facts.student_id] += 1
    released = anonymised.released
    return {
        "starts_on": extract.starts_on.isoformat(),
        "ends_on": extract.ends_on.isoformat(),
        "services": sorted(extract.services.values_list("name", flat=True)),
        "produced_at": timezone.now().isoformat(timespec="seconds"),
        "k": extract.k,
        **(
            {
                "approved": {
                    "minimum": settings.RESEARCH_MIN_K,
                    "agreement": extract.approved_under.title,
                    "approval": extract.approval,
                }
            }
            if extract.approved_under
            else {}
        ),
        "rows": sum(rows_of[s] for s in released),
        "students": len(released),
        "generalised": research.generalised_by_step(anonymised.steps, rows_of),
        "suppressed": {
            "students": len(anonymised.suppressed),
            "rows": sum(rows_of[s] for s in anonymised.suppressed),
        },
        "opted_out": {"students": len(opted_out_students), "rows": opted_out_rows},
    }


# --- Evaluation projects -------------------------------------------------------------------


def projects_for(user):
    """The evaluation projects of the organisations where `user` is a researcher or a
    service manager."""
    return EvaluationProject.objects.filter(
        organisation_id__in=evaluation_organisation_ids(user)
    ).select_related("organisation", "created_by", "updated_by")


def get_project_for_user(user, project_uuid) -> EvaluationProject:
    """The project, if it belongs to one of `user`'s evaluation organisations; else 404."""
    project = projects_for(user).filter(uuid=project_uuid).first()
    if project is None:
        raise Http404("No such evaluation project.")
    return project


def create_project(*, actor, values: dict) -> EvaluationProject:
    """Start an evaluation project with its plan, in the actor's organisation."""
    organisation_ids = sorted(evaluation_organisation_ids(actor))
    if not organisation_ids:
        raise ValidationError(_("Only researchers and service managers can record evaluations."))
    project = EvaluationProject(
        organisation_id=organisation_ids[0], created_by=actor, updated_by=actor, **values
    )
    project.full_clean()
    project.save()
    return project


def update_project(*, actor, project: EvaluationProject, values: dict) -> EvaluationProject:
    """Change one stage of a project (its form's fields), recording who changed it."""
    saved_reports = values.pop("saved_reports", None)
    if saved_reports is not None:
        allowed = set(saved_reports_for(actor).values_list("pk", flat=True))
        if any(r.pk not in allowed for r in saved_reports):
            raise ValidationError(_("Link only saved reports of your own organisation."))
        # Links the actor cannot see (a colleague's snapshot of services they do not report
        # on) were not offered to them, so they stay as they are.
        saved_reports = [*saved_reports, *project.saved_reports.exclude(pk__in=allowed)]
    with transaction.atomic():
        for name, value in values.items():
            setattr(project, name, value)
        project.updated_by = actor
        project.full_clean()
        project.save(update_fields=[*values, "updated_by", "updated_at"])
        if saved_reports is not None:
            project.saved_reports.set(saved_reports)
    return project


# --- Saved reports -------------------------------------------------------------------------


def saved_reports_for(user):
    """The snapshots `user` may open: those saved in an organisation where they are a
    researcher or service manager, and on services all of which they may report on now
    (`reports.report_services_for`, the report page's rule). So a researcher sees every
    snapshot of their organisation, and a service manager only those a report of their own
    could have produced, not a researcher's snapshot of another organisation's services.

    The services are stored in each snapshot's parameters (JSON), so they are checked here
    rather than in SQL; an organisation keeps few snapshots."""
    snapshots = SavedReport.objects.filter(
        organisation_id__in=evaluation_organisation_ids(user)
    ).select_related("saved_by", "organisation")
    allowed = set(reports.report_services_for(user).values_list("pk", flat=True))
    visible = [
        pk
        for pk, parameters in snapshots.values_list("pk", "parameters")
        if _covers(allowed, parameters)
    ]
    return snapshots.filter(pk__in=visible)


def _covers(allowed: set[int], parameters) -> bool:
    """Whether a snapshot's stored services are all among `allowed` (and there are some)."""
    service_ids = parameters.get("service_ids") if isinstance(parameters, dict) else None
    return bool(service_ids) and all(pk in allowed for pk in service_ids)


def get_saved_report_for_user(user, report_uuid) -> SavedReport:
    """The snapshot, if `user` may open it (`saved_reports_for`); else 404."""
    report = saved_reports_for(user).filter(uuid=report_uuid).first()
    if report is None:
        raise Http404("No such saved report.")
    return report


def describe_saved_report(report: SavedReport) -> str:
    """A snapshot's parameters in words, as `reports.describe` gives a live report's."""
    parameters = report.parameters
    words = (
        f"{parameters.get('start', '?')} to {parameters.get('end', '?')} (not including); "
        f"services: {', '.join(parameters.get('services', []))}"
    )
    breakdown = report.figures.get("breakdown_label") if isinstance(report.figures, dict) else ""
    if breakdown:
        words += f"; by {breakdown.lower()}"
    return words


def record_saved_report_use(*, actor, report: SavedReport, action: str, request=None) -> None:
    """Audit one opening or download of a snapshot, as each run of a live report is: who,
    in which role, and which snapshot. No student is named in one, so the entry names none."""
    append(
        [
            _entry(
                actor,
                action,
                f"Saved report {report.uuid}: {report.title}; {describe_saved_report(report)}.",
                request,
            )
        ]
    )


def parameters_as_data(parameters) -> dict:
    """Report parameters as JSON-ready data, as stored with a snapshot."""
    return {
        "start": parameters.start.isoformat(),
        "end": parameters.end.isoformat(),
        "service_ids": list(parameters.service_ids),
        "breakdown": parameters.breakdown,
    }


def save_report(*, actor, parameters, title: str, request=None) -> SavedReport:
    """Freeze the report these parameters produce now: its figures (already through
    disclosure control) are stored as they are, and never recomputed."""
    organisation_ids = sorted(evaluation_organisation_ids(actor))
    if not organisation_ids:
        raise ValidationError(_("Only researchers and service managers can save reports."))
    if not title.strip():
        raise ValidationError(_("Give the snapshot a name."))
    services = list(reports.report_services_for(actor).filter(pk__in=parameters.service_ids))
    if not parameters.service_ids or len(services) != len(set(parameters.service_ids)):
        raise ValidationError(_("You can only save reports on services you may report on."))
    figures = reports.build_report(parameters)
    with transaction.atomic():
        report = SavedReport.objects.create(
            organisation_id=organisation_ids[0],
            title=title.strip(),
            parameters=parameters_as_data(parameters)
            | {"services": sorted(s.name for s in services)},
            figures=figures,
            saved_by=actor,
        )
        append(
            [
                _entry(
                    actor,
                    "evaluation.report.saved",
                    f"Saved report {report.uuid}: {report.title}.",
                    request,
                )
            ]
        )
    return report
