"""Scores stated without answers, recorded before they were marked, are found and marked:
a scored administration without answers; never one with answers, nor one without a score."""

import pytest

from conftest import make_student
from joinedup.measures.models import Administration
from joinedup.people.models import Organisation, Service
from joinedup.tests.migrating import back_at, migrate, models_at

BEFORE = ("measures", "0006_calibration")


@pytest.fixture
def before_stated_scores_were_marked(transactional_db):
    with back_at([BEFORE]):
        yield


@pytest.mark.usefixtures("before_stated_scores_were_marked")
def test_a_scored_administration_without_answers_is_marked_as_a_stated_score():
    university = Organisation.objects.create(name="University of Northbridge", kind="university")
    service = Service.objects.create(organisation=university, name="Wellbeing", kind="wellbeing")
    student = make_student(university, "S1001")
    old = models_at([BEFORE])
    OldAdministration = old.get_model("measures", "Administration")  # noqa: N806 - historical
    OldAnswer = old.get_model("measures", "Answer")  # noqa: N806 - historical model
    common = {"student_id": student.pk, "service_id": service.pk, "code": "PHQ-9",
              "method": "imported", "is_valid": True}  # fmt: skip
    answered = OldAdministration.objects.create(main_score=1, total=1, **common)
    OldAnswer.objects.create(administration=answered, item=1, value=1)
    stated = OldAdministration.objects.create(main_score=14, total=14, **common)
    unscored = OldAdministration.objects.create(**common | {"is_valid": False})
    migrate([("measures", "0007_score_only")])

    marked = dict(Administration.objects.values_list("pk", "score_only"))
    assert marked == {answered.pk: False, stated.pk: True, unscored.pk: False}
