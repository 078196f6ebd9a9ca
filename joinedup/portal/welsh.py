"""The Welsh catalogue: every string a student may read (their pages, the pages open to anyone,
and the emails and texts sent to them) in English and Welsh, as universities in Wales must
offer (Welsh Language Standards). Staff pages stay in English.

The catalogue is made from the files below only, so that it holds what a student reads and
nothing a translator would spend time on for staff. `joinedup student_messages` remakes it
(keeping every translation already made); a test fails while it is out of date or while any
string in it is untranslated."""

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import allauth
import polib

import joinedup

WELSH = "cy"
PROJECT = Path(joinedup.__file__).parent
CATALOGUE = PROJECT / "locale" / WELSH / "LC_MESSAGES" / "django.po"
ALLAUTH = Path(allauth.__file__).parent

# Paths under the project, then under django-allauth (the sign-in pages it draws).
STUDENT_FACING = (
    "templates/*.html",
    "templates/account/*.html",
    "templates/allauth/**/*.html",
    "templates/forms/*.html",
    "errors.py",
    "lib/dates.py",
    "lib/forms.py",
    "portal/*.py",
    "portal/templates/portal/*.html",
    "people/models.py",
    "people/navigation.py",
    "people/views.py",
    "people/services.py",
    "people/tasks.py",
    "referrals/directory/*.py",
    "referrals/selfreferral/*.py",
    "referrals/templates/referrals/directory/_card.html",
    "referrals/templates/referrals/directory/_help_now.html",
    "referrals/templates/referrals/directory/directory.html",
    "referrals/templates/referrals/directory/entry_detail.html",
    "referrals/templates/referrals/directory/help_now.html",
    "referrals/templates/referrals/self_referral/_crisis.html",
    "referrals/templates/referrals/self_referral/_next.html",
    "referrals/templates/referrals/self_referral/form.html",
    "referrals/templates/referrals/self_referral/sent.html",
    "audit/models.py",
    "messaging/templates/messaging/_message.html",
    "messaging/templates/messaging/_not_sent.html",
    "measures/selectors.py",
    "measures/templates/measures/_trajectory.html",
    "referrals/models/directory.py",
    "referrals/models/episodes.py",
    "referrals/models/referrals.py",
    "messaging/selectors.py",
    "messaging/rules.py",
    "messaging/services.py",
    "messaging/forms.py",
    "messaging/tasks.py",
    "reminders/*.py",
    "consent/models.py",
    "consent/policy.py",
    "consent/rules.py",
    "consent/services.py",
    "referrals/appointments.py",
    "referrals/episodes.py",
    "feedback/forms.py",
    "feedback/models.py",
    "feedback/services.py",
    "feedback/views.py",
    "measures/forms.py",
    "risk/forms.py",
    "risk/models.py",
    "measures/templates/measures/_questionnaire.html",
    "risk/templates/risk/_safety_plan.html",
    "risk/templates/risk/_return_plan.html",
    "risk/concern_views.py",
    "risk/concerns.py",
    "risk/templates/risk/concern_detail.html",
    "risk/templates/risk/concern_form.html",
    "risk/templates/risk/concern_list.html",
    "risk/templates/risk/concern_private.html",
    "risk/templates/risk/concern_raised.html",
    "feedback/templates/feedback/give.html",
    "feedback/templates/feedback/you_said_we_did.html",
)
ALLAUTH_STUDENT_FACING = (
    "account/fields.py",
    "account/forms.py",
    "templates/account/logout.html",
    "templates/account/messages/*.txt",
    "templates/account/password_change.html",
    "templates/account/password_reset*.html",
    "templates/account/email/password_reset_key_*.txt",
)


def sources() -> Iterator[tuple[Path, Path]]:
    """Each student-facing file, with the path it is copied to for extraction."""
    for root, patterns, prefix in (
        (PROJECT, STUDENT_FACING, Path("joinedup")),
        (ALLAUTH, ALLAUTH_STUDENT_FACING, Path("allauth")),
    ):
        for pattern in patterns:
            for path in sorted(root.glob(pattern)):
                if "tests" not in path.parts and "migrations" not in path.parts:
                    yield path, prefix / path.relative_to(root)


def remake(catalogue: Path = CATALOGUE) -> polib.POFile:
    """Extract the student-facing strings into `catalogue`, keeping its translations; strings no
    longer used are dropped."""
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work)
        for source, copy in sources():
            (tree / copy).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tree / copy)
        made = tree / "locale" / WELSH / "LC_MESSAGES" / "django.po"
        made.parent.mkdir(parents=True)
        if catalogue.exists():
            shutil.copyfile(catalogue, made)
        subprocess.run(  # noqa: S603 - Django's own command, our own arguments
            [
                sys.executable,
                "-m",
                "django",
                "makemessages",
                f"--locale={WELSH}",
                "--no-location",
                "--no-obsolete",
                "--no-wrap",
                "--verbosity=0",
            ],
            cwd=tree,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        made_catalogue = polib.pofile(str(made), wrapwidth=0)
    made_catalogue.metadata_is_fuzzy = False
    made_catalogue.header = (
        "The Welsh catalogue of what students read. Remade by `joinedup student_messages`."
    )
    made_catalogue.metadata.update(
        {"Project-Id-Version": "JoinedUp", "Language": WELSH, "Language-Team": "Cymraeg"}
    )
    for field in (
        "Last-Translator",
        "PO-Revision-Date",
        "POT-Creation-Date",
        "Report-Msgid-Bugs-To",
    ):
        made_catalogue.metadata.pop(field, None)
    catalogue.parent.mkdir(parents=True, exist_ok=True)
    made_catalogue.save(str(catalogue))
    return made_catalogue


def untranslated(catalogue: polib.POFile) -> list[str]:
    """The msgids a Welsh reader would see in English: empty or fuzzy translations."""
    return [entry.msgid for entry in catalogue if not entry.obsolete and not entry.translated()]
