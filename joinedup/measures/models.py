"""Questionnaire administrations, their answers, and completion links.

Everything here is in the `outcomes` data category of the access policy.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.measures.instruments import CODES
from joinedup.measures.outcomes import jacobson_truax
from joinedup.people.models import Service, Student
from joinedup.referrals.models import Episode

MEASURE_CHOICES = [(code, code) for code in CODES]


class RoutineMeasure(models.Model):
    """A measure a service asks for at every session (sessional monitoring)."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="routine_measures")
    code = models.CharField(max_length=10, choices=MEASURE_CHOICES)

    class Meta:
        ordering = ["service", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="routine_measure_unique")
        ]

    def __str__(self):
        return f"{self.service}: {self.code}"


class Calibration(models.Model):
    """A service's standard deviation of first scores and reliability for a measure with no
    published reliable change index (the CORE-OM, `shared/spec/measures.md` §4): reports work
    out its reliable change index from them (Jacobson & Truax)."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="calibrations")
    code = models.CharField(max_length=10, choices=MEASURE_CHOICES)
    first_score_sd = models.FloatField(_("standard deviation of first scores"))
    reliability = models.FloatField(_("reliability"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="calibration_unique"),
            models.CheckConstraint(
                condition=Q(first_score_sd__gt=0, reliability__gt=0, reliability__lt=1),
                name="calibration_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.service}: {self.code}"

    @property
    def reliable_change_index(self) -> float:
        return jacobson_truax(self.first_score_sd, self.reliability)


class Administration(models.Model):
    """One completed questionnaire: who answered it, when and how, and its scores.

    Scores are computed once, on recording, by `joinedup.measures.scoring`; a total stated
    by another system is never stored without being recomputed from the answers.
    """

    class Method(models.TextChoices):
        IN_SESSION = "in_session", _("Recorded in a session")
        LINK = "link", _("Completed by the student from a link")
        IMPORTED = "imported", _("Imported from another system")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="administrations")
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, models.PROTECT, null=True, blank=True, related_name="administrations"
    )
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    code = models.CharField(_("measure"), max_length=10, choices=MEASURE_CHOICES)
    completed_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=12, choices=Method.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_valid = models.BooleanField()
    is_prorated = models.BooleanField(default=False)
    total = models.FloatField(null=True, blank=True)
    main_score = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=30, blank=True)
    is_case = models.BooleanField(null=True, blank=True)
    has_risk = models.BooleanField(default=False)
    risk_unanswered = models.BooleanField(default=False)
    subscales = models.JSONField(default=dict, blank=True)
    # A score another system stated without its answers (`scoring.stated`): it has no
    # answers, so it is served as an Observation alone, never as a QuestionnaireResponse.
    score_only = models.BooleanField(default=False, db_default=False)
    # A digest of an imported row, so importing the same file again changes nothing.
    import_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["completed_at", "pk"]
        indexes = [
            models.Index(
                fields=["student", "code", "completed_at"], name="administration_trajectory"
            ),
            # The `EpisodeScores` triggers read an episode's valid scores on a measure in
            # (completed_at, id) order for its first and last score: this index holds them in
            # that order, with the score, so neither engine sorts nor reads the table. SQLite
            # counts an index as covering only if it holds every column the query names,
            # including those of the index's own condition, hence `is_valid`.
            models.Index(
                fields=["episode", "code", "completed_at", "id", "main_score", "is_valid"],
                condition=Q(is_valid=True, main_score__isnull=False),
                name="administration_valid_scores",
            ),
            # A search for responses or scores in date order (the newest first, as a partner
            # polls) walks this index and stops at the page's end.
            models.Index(fields=["completed_at", "id"], name="administration_by_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "session_number", "code"],
                condition=Q(episode__isnull=False, session_number__isnull=False),
                name="administration_once_per_session",
            )
        ]

    def __str__(self):
        return f"{self.code} {self.completed_at:%Y-%m-%d}"


class EpisodeScores(models.Model):
    """An episode's first and last valid main score on one measure, ordered by
    (completed_at, id), and how many valid scores it has: what outcomes are measured on.

    The database keeps these rows itself: a trigger on the administrations table (migration
    `0005_episode_scores`) recomputes an episode's row for a measure whenever one of its
    administrations is added, changed or deleted, however it was written. Service reports
    read them instead of every score."""

    episode = models.ForeignKey(Episode, models.CASCADE, related_name="+")
    code = models.CharField(_("measure"), max_length=10, choices=MEASURE_CHOICES)
    first_score = models.FloatField()
    last_score = models.FloatField()
    scores = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode", "code"], name="episode_scores_once")
        ]

    def __str__(self):
        return f"{self.code}: {self.first_score:g} to {self.last_score:g} ({self.scores} scores)"


class Answer(models.Model):
    """One item's answer: the position of the chosen option, before any reverse-scoring."""

    administration = models.ForeignKey(Administration, models.CASCADE, related_name="answers")
    item = models.PositiveSmallIntegerField()
    value = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["administration", "item"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "item"], name="answer_once_per_item")
        ]

    def __str__(self):
        return f"item {self.item}: {self.value}"


class CompletionLink(models.Model):
    """A signed, expiring, single-use link for a student to complete questionnaires."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(Episode, models.CASCADE, related_name="completion_links")
    session_number = models.PositiveSmallIntegerField()
    codes = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{', '.join(self.codes)} for session {self.session_number}"

    def is_usable(self, now=None) -> bool:
        return self.used_at is None and (now or timezone.now()) < self.expires_at


class LicensedItemText(models.Model):
    """Item texts a licensed service loaded for a measure whose texts may not be shipped."""

    code = models.CharField(max_length=10, choices=MEASURE_CHOICES)
    item = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "item"]
        constraints = [
            models.UniqueConstraint(fields=["code", "item"], name="licensed_text_unique")
        ]

    def __str__(self):
        return f"{self.code} item {self.item}"
