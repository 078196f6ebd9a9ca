"""What a data sharing agreement records of its legal footing. Staff pages only: kept out
of the models module, whose words students read (and which are translated into Welsh)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LawfulBasis(models.TextChoices):
    # UK GDPR Article 6(1): the lawful basis of the sharing.
    PUBLIC_TASK = (
        "public_task",
        _("Article 6(1)(e): a task in the public interest or in official authority"),
    )
    LEGAL_OBLIGATION = "legal_obligation", _("Article 6(1)(c): a legal obligation")
    VITAL_INTERESTS = "vital_interests", _("Article 6(1)(d): to protect someone's life")
    LEGITIMATE_INTERESTS = (
        "legitimate_interests",
        _("Article 6(1)(f): legitimate interests (not for a public authority's own tasks)"),
    )
    CONTRACT = "contract", _("Article 6(1)(b): a contract with the student")
    CONSENT = "consent", _("Article 6(1)(a): the student's consent")


class Condition(models.TextChoices):
    # UK GDPR Article 9(2): the condition for sharing health data (special category).
    HEALTH_CARE = (
        "health_care",
        _(
            "Article 9(2)(h): health or social care (Data Protection Act 2018, Schedule 1, "
            "paragraph 2)"
        ),
    )
    SAFEGUARDING = (
        "safeguarding",
        _(
            "Article 9(2)(g): substantial public interest, safeguarding individuals at risk "
            "(Data Protection Act 2018, Schedule 1, paragraph 18)"
        ),
    )
    VITAL_INTERESTS = (
        "vital_interests",
        _("Article 9(2)(c): to protect someone's life when they cannot consent"),
    )
    EXPLICIT_CONSENT = "explicit_consent", _("Article 9(2)(a): the student's explicit consent")
