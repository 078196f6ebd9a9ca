"""Welsh: the catalogue of what students read is complete and current; a student's pages follow
their choice (else their browser); staff pages stay in English; what is sent to a student is in
the language they chose."""

import re
import shutil
import subprocess

import polib
import pytest
from django.core import mail
from django.tasks import task
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext

from joinedup.audit.models import AuditEvent
from joinedup.people.models import Notification
from joinedup.portal import welsh
from joinedup.referrals.tests.factories import book, day_after_tomorrow_at, walked_in
from joinedup.reminders import rules as reminder_rules
from joinedup.reminders.services import remind_of_appointment

WELSH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "cy,en;q=0.5"}


def welsh_for(english: str) -> str:
    with translation.override("cy"):
        words = gettext(english)
    assert words != english, f"{english!r} has no Welsh"
    return words


def test_every_string_in_the_welsh_catalogue_is_translated():
    catalogue = polib.pofile(str(welsh.CATALOGUE))
    assert len(catalogue) > 900
    assert welsh.untranslated(catalogue) == []
    # The placeholders of each translation are those of its English (gettext's own check).
    msgfmt = [shutil.which("msgfmt") or "msgfmt", "--check-format", "-o", "/dev/null"]
    subprocess.run([*msgfmt, str(welsh.CATALOGUE)], check=True)  # noqa: S603 - our own file


def test_the_catalogue_holds_every_string_a_student_reads_and_no_other(tmp_path):
    committed = polib.pofile(str(welsh.CATALOGUE))
    copy = tmp_path / "django.po"
    shutil.copyfile(welsh.CATALOGUE, copy)
    remade = welsh.remake(copy)
    added = {e.msgid for e in remade} - {e.msgid for e in committed}
    dropped = {e.msgid for e in committed} - {e.msgid for e in remade}
    assert (added, dropped) == (set(), set()), "run `joinedup student_messages` and translate"


def test_the_untranslated_are_found():
    catalogue = polib.POFile()
    catalogue.append(polib.POEntry(msgid="Hello", msgstr="Helo"))
    catalogue.append(polib.POEntry(msgid="Your record", msgstr=""))
    catalogue.append(polib.POEntry(msgid="Messages", msgstr="Negeseuon", flags=["fuzzy"]))
    assert welsh.untranslated(catalogue) == ["Your record", "Messages"]


def test_anyone_with_a_welsh_browser_reads_open_pages_in_welsh(db):
    page = Client().get(reverse("referrals:help-now"), **WELSH_BROWSER).content.decode()
    assert '<html lang="cy">' in page
    assert welsh_for("Get help now") in page
    assert 'value="en-gb" lang="en-GB"' in page  # the way back to English, named in English


def test_a_student_who_chose_welsh_reads_welsh_whatever_the_browser(hub, client):
    hub.student.language = "cy"
    hub.student.save()
    client.force_login(hub.student_user)
    page = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    assert '<html lang="cy">' in page
    assert welsh_for("My messages") in page


def test_staff_pages_stay_in_english_in_a_welsh_browser(hub, client):
    client.force_login(hub.practitioner)
    page = client.get(reverse("record:my-day"), **WELSH_BROWSER).content.decode()
    assert '<html lang="en-GB">' in page
    assert "data-language-switch" not in page


def test_the_student_chooses_welsh_and_it_is_kept_with_their_record(hub, client):
    client.force_login(hub.student_user)
    response = client.post(reverse("language"), {"language": "cy", "next": "/me/consents/"})
    assert response.status_code == 302
    assert response["Location"] == "/me/consents/"
    assert response.cookies["django_language"].value == "cy"
    hub.student.refresh_from_db()
    assert hub.student.language == "cy"
    event = AuditEvent.objects.get(action="people.student.language_changed")
    assert (event.actor, event.student) == (hub.student_user, hub.student)

    client.post(reverse("language"), {"language": "en-gb"})
    hub.student.refresh_from_db()
    assert hub.student.language == "en-gb"


@pytest.mark.parametrize("language", ["fr", "", "cy'; --"])
def test_a_language_not_offered_is_refused_and_nothing_changes(hub, client, language):
    hub.student.language = "cy"
    hub.student.save()
    client.force_login(hub.student_user)
    response = client.post(reverse("language"), {"language": language}, follow=True)
    assert welsh_for("Choose English or Cymraeg.") in response.content.decode()
    assert "django_language" not in response.cookies
    hub.student.refresh_from_db()
    assert hub.student.language == "cy"


def test_the_choice_never_sends_anyone_off_the_site(client):
    response = Client().post(
        reverse("language"), {"language": "cy", "next": "https://elsewhere.example/"}
    )
    assert response["Location"] == reverse("home")


def test_a_member_of_staff_choosing_changes_no_student_record(hub, client):
    client.force_login(hub.practitioner)
    client.post(reverse("language"), {"language": "cy"})
    assert not AuditEvent.objects.filter(action="people.student.language_changed").exists()


def test_a_reminder_goes_in_the_language_the_student_chose(hub):
    hub.student.language = "cy"
    hub.student.save()
    starts_at = day_after_tomorrow_at(10)
    appointment = book(hub, walked_in(hub, student=hub.student), starts_at)
    mail.outbox.clear()
    remind_of_appointment(appointment)
    [email] = mail.outbox
    assert email.subject == welsh_for(reminder_rules.APPOINTMENT_SUBJECT)
    with translation.override("cy"):
        weekday = formats.date_format(starts_at, "D")
    assert welsh_for("You have an appointment on %(when)s. Details: %(link)s").split("%")[0] in (
        email.body
    )
    assert f"{weekday} {starts_at.day} " in email.body  # the day named in Welsh
    assert "You have" not in email.body


def test_a_student_who_has_not_chosen_is_written_to_in_english(hub):
    appointment = book(hub, walked_in(hub, student=hub.student), day_after_tomorrow_at(10))
    mail.outbox.clear()
    remind_of_appointment(appointment)
    [email] = mail.outbox
    assert email.subject == reminder_rules.APPOINTMENT_SUBJECT
    assert email.body.startswith("You have an appointment on ")


def said_in(text: str, english: str) -> bool:
    """Whether `text` is the Welsh of `english`, whatever its placeholders were filled with."""
    return all(piece in text for piece in re.split(r"%\(\w+\)s", welsh_for(english)))


def test_what_a_service_does_is_told_to_a_welsh_student_in_welsh(
    hub, django_capture_on_commit_callbacks
):
    hub.student.language = "cy"
    hub.student.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        book(hub, walked_in(hub, student=hub.student), day_after_tomorrow_at(10))
    started, booked = Notification.objects.filter(student=hub.student).order_by("pk")
    assert said_in(
        started.text,
        "%(service)s has started working with you. Your appointments with them will show "
        "under My appointments.",
    )
    assert said_in(
        booked.text,
        "%(service)s booked an appointment for you on %(when)s (%(minutes)s minutes). See it "
        "under My appointments.",
    )
    assert {email.subject for email in mail.outbox} == {welsh_for("About your record")}


@task
def language_of_a_task() -> str:
    return translation.get_language()


def test_a_task_runs_in_english_whatever_language_queued_it():
    """As a worker runs it: a task queued from a Welsh page (a student's answer emailing the
    member of staff who asked) is in English unless it sets the student's language."""
    with translation.override("cy"):
        result = language_of_a_task.enqueue()
    assert result.return_value == "en-gb"
