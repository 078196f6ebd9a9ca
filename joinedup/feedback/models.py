"""Students' feedback on services, the themes staff find in it, what services did in
response ("you said, we did"), and student advisory groups.

Anonymity is structural: anonymous feedback has no student and no episode, is dated only
by the month it was given, and the record that an episode's invitation was used carries
neither a time nor a link to the feedback. Nothing can join them back together.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import Organisation, Service, Student
from joinedup.referrals.models import Episode

COMMENT_MAX_LENGTH = 2000


class Rating(models.IntegerChoices):
    """The NHS Friends and Family Test's answers to "Overall, how was your experience?"."""

    VERY_GOOD = 5, _("Very good")
    GOOD = 4, _("Good")
    NEITHER = 3, _("Neither good nor poor")
    POOR = 2, _("Poor")
    VERY_POOR = 1, _("Very poor")


class Agreement(models.IntegerChoices):
    STRONGLY_AGREE = 5, _("Strongly agree")
    AGREE = 4, _("Agree")
    NEITHER = 3, _("Neither agree nor disagree")
    DISAGREE = 2, _("Disagree")
    STRONGLY_DISAGREE = 1, _("Strongly disagree")


class Theme(models.Model):
    """A subject that comes up in a service's feedback ("waiting times", "evening slots")."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="feedback_themes")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="unique_theme_per_service")
        ]

    def __str__(self):
        return self.name


class Feedback(models.Model):
    """One student's experience of one service, given after an episode of care ended."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, models.PROTECT, related_name="feedback")
    anonymous = models.BooleanField(default=False)
    student = models.ForeignKey(
        Student, models.CASCADE, null=True, blank=True, related_name="feedback"
    )
    episode = models.ForeignKey(
        Episode, models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    # The first day of the month it was given: no finer, so that an anonymous answer cannot
    # be matched with the day an episode ended.
    given_in = models.DateField()
    overall = models.PositiveSmallIntegerField(
        _("Overall, how was your experience of the service?"),
        choices=Rating.choices,
        null=True,
        blank=True,
    )
    listened_to = models.PositiveSmallIntegerField(
        _("I felt listened to and understood"), choices=Agreement.choices, null=True, blank=True
    )
    help_in_time = models.PositiveSmallIntegerField(
        _("I got help when I needed it"), choices=Agreement.choices, null=True, blank=True
    )
    knew_what_next = models.PositiveSmallIntegerField(
        _("I knew what would happen next"), choices=Agreement.choices, null=True, blank=True
    )
    comment = models.TextField(
        _("Is there anything you would like to tell us?"),
        max_length=COMMENT_MAX_LENGTH,
        blank=True,
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="feedback")

    class Meta:
        ordering = ["-given_in", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymous=True, student__isnull=True, episode__isnull=True)
                | Q(anonymous=False, student__isnull=False),
                name="feedback_anonymous_has_no_student",
            )
        ]

    def __str__(self):
        return f"Feedback on {self.service} ({self.given_in:%B %Y})"

    RATED = ("overall", "listened_to", "help_in_time", "knew_what_next")

    @property
    def answers(self) -> list[tuple[str, str | None]]:
        """Each rated question with the answer's words (None when not answered)."""
        return [
            (
                self._meta.get_field(name).verbose_name,
                None if getattr(self, name) is None else getattr(self, f"get_{name}_display")(),
            )
            for name in self.RATED
        ]


class InvitationUsed(models.Model):
    """The student has answered (or declined) the invitation after this episode. Kept apart
    from the feedback, with no time, so an anonymous answer stays anonymous."""

    episode = models.OneToOneField(Episode, models.CASCADE, primary_key=True)

    def __str__(self):
        return f"Invitation used: {self.episode_id}"


class Action(models.Model):
    """What a service (or the whole university) does in response to themes from feedback."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        NOT_POSSIBLE = "not_possible", _("Not possible")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="feedback_actions")
    service = models.ForeignKey(
        Service,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_actions",
        help_text=_("Leave empty for an action across the whole organisation."),
    )
    title = models.CharField(_("What we are doing"), max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    themes = models.ManyToManyField(Theme, related_name="actions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-status_changed_at"]

    def __str__(self):
        return self.title


class ActionUpdate(models.Model):
    """Each change of an action's status, published with its date."""

    action = models.ForeignKey(Action, models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=Action.Status.choices)
    note = models.TextField(blank=True, max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.action} — {self.get_status_display()}"


class AdvisoryGroup(models.Model):
    """Students who advise a university or a service on how it is run."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="advisory_groups")
    service = models.ForeignKey(
        Service, models.PROTECT, null=True, blank=True, related_name="advisory_groups"
    )
    name = models.CharField(max_length=120)
    purpose = models.TextField(max_length=2000)
    members = models.ManyToManyField(Student, blank=True, related_name="advisory_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Meeting(models.Model):
    group = models.ForeignKey(AdvisoryGroup, models.CASCADE, related_name="meetings")
    held_on = models.DateField(_("date"))
    agenda = models.TextField(max_length=5000)
    minutes = models.TextField(max_length=20000, blank=True)

    class Meta:
        ordering = ["-held_on"]

    def __str__(self):
        return f"{self.group} — {self.held_on:%-d %B %Y}"


class GroupAction(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    group = models.ForeignKey(AdvisoryGroup, models.CASCADE, related_name="actions")
    meeting = models.ForeignKey(Meeting, models.SET_NULL, null=True, blank=True)
    description = models.CharField(max_length=300)
    owner = models.CharField(_("who will do it"), max_length=120)
    due_on = models.DateField(_("due by"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["status", "due_on"]

    def __str__(self):
        return self.description


class Decision(models.Model):
    group = models.ForeignKey(AdvisoryGroup, models.CASCADE, related_name="decisions")
    meeting = models.ForeignKey(Meeting, models.SET_NULL, null=True, blank=True)
    text = models.TextField(_("decision"), max_length=2000)
    decided_on = models.DateField()

    class Meta:
        ordering = ["-decided_on"]

    def __str__(self):
        return self.text[:80]


class Draft(models.Model):
    """A proposed change to a service, shown to the group's members for comment before it
    goes live."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(AdvisoryGroup, models.CASCADE, related_name="drafts")
    title = models.CharField(max_length=200)
    body = models.TextField(_("the proposed change"), max_length=10000)
    comments_close_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class DraftComment(models.Model):
    draft = models.ForeignKey(Draft, models.CASCADE, related_name="comments")
    student = models.ForeignKey(Student, models.CASCADE, related_name="draft_comments")
    text = models.TextField(_("your comment"), max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Comment on {self.draft}"
