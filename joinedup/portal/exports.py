"""Subject access: everything held about a student that they may see, as plain data."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from joinedup.audit.models import Basis
from joinedup.audit.selectors import accesses_to, visits_to
from joinedup.consent.models import ConsentGrant
from joinedup.consent.rules import OWN_ROWS_ONLY, STUDENT_WORDS
from joinedup.feedback.models import DraftComment, Feedback
from joinedup.measures import instruments
from joinedup.measures.models import Administration
from joinedup.messaging.models import Message
from joinedup.people.models import Role, Student
from joinedup.record.models import RecordEntry
from joinedup.referrals.models import Appointment, Referral
from joinedup.risk.models import Flag, ReturnToStudyPlan, RiskAssessment, SafetyPlan


def _when(value):
    return value.isoformat() if value else None


def subject_access(student) -> dict:
    """The student's own data, in a fixed number of queries. Entries a clinician withheld
    for the student's safety are left out, as on every page the student sees."""
    return {
        "produced_at": _when(timezone.now()),
        "identity": {
            "preferred_name": student.display_name, "legal_name": student.legal_name,
            "pronouns": student.pronouns, "date_of_birth": _when(student.date_of_birth),
            "student_number": student.student_number, "nhs_number": student.nhs_number,
            "email": student.email, "phone": student.phone,
            "trusted_contact": {"name": student.trusted_contact_name,
                                "relationship": student.trusted_contact_relationship,
                                "phone": student.trusted_contact_phone,
                                "permission": student.trusted_contact_permission},
        },
        "registration": {
            "university": student.university.name,
            "department": student.department.name if student.department else None,
            "status": student.status, "international": student.is_international,
            "gp_practice": student.gp_practice.name if student.gp_practice else None,
            "term_postcode": student.term_postcode, "home_postcode": student.home_postcode,
        },
        "consents": [
            {"category": g.category, "recipient": str(g.recipient_in_words), "purpose": g.purpose,
             "how_given": g.how_given, "from": _when(g.valid_from),
             "until": _when(g.valid_until), "withdrawn": _when(g.withdrawn_at)}
            for g in ConsentGrant.objects.filter(student=student).select_related(
                "recipient_service__organisation", "recipient_department",
                "recipient_organisation")
        ],
        "record": [
            {"category": e.category, "service": e.service.name, "title": e.title,
             "text": e.body, "written": _when(e.created_at)}
            for e in RecordEntry.objects.filter(student=student, is_withheld_from_student=False)
            .select_related("service")
        ],
        "questionnaires": [
            {"measure": a.code, "completed": _when(a.completed_at), "service": a.service.name,
             "score": a.main_score, "answers": {str(x.item): x.value for x in a.answers.all()}}
            for a in Administration.objects.filter(student=student)
            .select_related("service").prefetch_related("answers")
        ],
        "referrals": [
            {"from": str(r.from_service or r.get_source_display()), "to": r.to_service.name,
             "state": r.state, "sent": _when(r.sent_at), "reason": r.reason}
            for r in Referral.objects.filter(student=student).select_related(
                "from_service", "to_service")
        ],
        "appointments": [
            {"service": a.episode.service.name, "when": _when(a.starts_at), "kind": a.kind,
             "status": a.status}
            for a in Appointment.objects.filter(episode__student=student).select_related(
                "episode__service")
        ],
        "messages": [
            {"service": m.service.name, "from_you": m.from_student, "sent": _when(m.sent_at),
             "by": "" if m.from_student else m.author.get_full_name(), "text": m.body}
            for m in Message.objects.filter(student=student).select_related("service", "author")
        ],
        "risk": {
            "assessments": [
                {"service": r.service.name, "level": r.level.name, "when": _when(r.created_at),
                 "factors": r.factors, "protective_factors": r.protective_factors,
                 "plan": r.plan}
                for r in RiskAssessment.objects.filter(student=student).select_related(
                    "service", "level")
            ],
            "flags": [
                {"level": f.level.name, "reason": f.reason, "raised": _when(f.raised_at)}
                for f in Flag.objects.filter(student=student).select_related("level")
            ],
            "safety_plans": [
                {"service": p.service.name, "warning_signs": p.warning_signs,
                 "things_that_help": p.things_that_help, "people_and_places": p.people_and_places,
                 "professional_contacts": p.professional_contacts,
                 "crisis_numbers": p.crisis_numbers, "making_safer": p.making_safer}
                for p in SafetyPlan.objects.filter(student=student).select_related("service")
            ],
            "return_to_study": [
                {"nhs_service": p.nhs_service.name, "university_service": p.university_service.name,
                 "support_agreed": p.support_agreed, "who_does_what": p.who_does_what,
                 "adjustments": p.adjustments, "fit_to_study": p.fit_to_study,
                 "nhs_view": p.nhs_view, "university_view": p.university_view,
                 "student_view": p.student_view, "review_on": _when(p.review_on)}
                for p in ReturnToStudyPlan.objects.filter(student=student).select_related(
                    "nhs_service", "university_service")
            ],
        },
        # Only feedback given by name: anonymous feedback has no link to the student.
        "feedback": [
            {"service": f.service.name, "month": f.given_in.strftime("%Y-%m"),
             "answers": {str(label): value for label, value in f.answers},
             "comment": f.comment}
            for f in Feedback.objects.filter(student=student).select_related("service")
        ],
        "advisory_groups": [
            {"group": c.draft.group.name, "draft": c.draft.title, "comment": c.text,
             "written": _when(c.created_at)}
            for c in DraftComment.objects.filter(student=student).select_related("draft__group")
        ],
        "who_looked": [
            {"when": _when(e.at), "service": e.actor_service, "role": e.actor_role,
             "category": e.category, "basis": e.basis}
            for e in accesses_to(student)
        ],
    }  # fmt: skip


def visit_in_words(visit) -> dict:
    """One row of "who looked", in the student's words: who, what they read, why they could."""
    why = [str(Basis(b).label).capitalize() if b in Basis.values else b for b in visit.bases]
    if visit.override_reason:
        overridden = _("Emergency override: %(reason)s") % {"reason": visit.override_reason}
        why = [w for w in why if w != str(Basis.BREAK_GLASS.label).capitalize()] + [overridden]
    if why and any(OWN_ROWS_ONLY in reason for reason in visit.reasons):
        why[0] = _("%(why)s (of notes and records, only what their service wrote)") % {
            "why": why[0]
        }
    return {
        "visit": visit,
        "who": ", ".join(dict.fromkeys(p for p in (visit.service, visit.organisation) if p)),
        "role": Role(visit.role).label if visit.role in Role.values else visit.role,
        "what": [_(STUDENT_WORDS.get(c, c)) for c in visit.categories],
        "why": "; ".join(why),
    }


def _label(model, field: str, value) -> str:
    """A stored choice in the words its model gives it."""
    return str(dict(model._meta.get_field(field).flatchoices).get(value, value or ""))


def _day(iso: str | None) -> str:
    return date_format(datetime.fromisoformat(iso), "j F Y") if iso else ""


def _moment(iso: str | None) -> str:
    if not iso:
        return ""
    return date_format(timezone.localtime(datetime.fromisoformat(iso)), "j F Y, H:i")


def _score(code: str, score) -> str:
    if score is None:
        return _("not scored")
    band = instruments.get(code).band_for(score) if code in instruments.CODES else None
    shown = f"{score:g}" if isinstance(score, float) else str(score)
    return _("score %(score)s: %(band)s") % {"score": shown, "band": band} if band else shown


def in_words(data: dict, student) -> dict:
    """`subject_access` as the PDF says it: every part, in words, with dates as people
    write them, choices by their names, scores with what they mean, and who looked grouped
    by visit. Nothing is left out that the data holds."""
    identity = data["identity"]
    contact = identity["trusted_contact"]
    return {
        "identity": identity | {
            "date_of_birth": _day(identity["date_of_birth"]),
            "trusted_contact": contact | {"permission": _label(
                Student, "trusted_contact_permission", contact["permission"])},
        },
        "registration": data["registration"] | {
            "status": _label(Student, "status", data["registration"]["status"]),
            "international": _("Yes") if data["registration"]["international"] else _("No"),
        },
        "consents": [
            c | {"category": _(STUDENT_WORDS.get(c["category"], c["category"])),
                 "purpose": _label(ConsentGrant, "purpose", c["purpose"]),
                 "how_given": _label(ConsentGrant, "how_given", c["how_given"]),
                 "from": _day(c["from"]), "until": _day(c["until"]),
                 "withdrawn": _day(c["withdrawn"])}
            for c in data["consents"]
        ],
        "record": [
            e | {"category": _(STUDENT_WORDS.get(e["category"], e["category"])),
                 "written": _day(e["written"])}
            for e in data["record"]
        ],
        "questionnaires": [
            q | {"completed": _day(q["completed"]), "score": _score(q["measure"], q["score"])}
            for q in data["questionnaires"]
        ],
        "referrals": [
            r | {"state": _label(Referral, "state", r["state"]), "sent": _day(r["sent"])}
            for r in data["referrals"]
        ],
        "appointments": [
            a | {"when": _moment(a["when"]), "kind": _label(Appointment, "kind", a["kind"]),
                 "status": _label(Appointment, "status", a["status"])}
            for a in data["appointments"]
        ],
        "messages": [m | {"sent": _moment(m["sent"])} for m in data["messages"]],
        "risk": {
            "assessments": [
                r | {"when": _day(r["when"])} for r in data["risk"]["assessments"]
            ],
            "flags": [f | {"raised": _day(f["raised"])} for f in data["risk"]["flags"]],
            "safety_plans": data["risk"]["safety_plans"],
            "return_to_study": [
                p | {"review_on": _day(p["review_on"]),
                     "fit_to_study": _label(ReturnToStudyPlan, "fit_to_study", p["fit_to_study"])}
                for p in data["risk"]["return_to_study"]
            ],
        },
        "feedback": [
            f | {"month": date_format(date.fromisoformat(f"{f['month']}-01"), "F Y")}
            for f in data["feedback"]
        ],
        "advisory_groups": [
            c | {"written": _day(c["written"])} for c in data["advisory_groups"]
        ],
        "who_looked": [visit_in_words(v) for v in visits_to(student)],
    }  # fmt: skip
