"""Research extracts in the browser: a researcher runs one, watches its progress (polled by
htmx) and downloads it."""

import zipfile

import pytest
from playwright.sync_api import expect

from joinedup.audit.models import AuditEvent
from joinedup.conftest import assert_accessible, login
from joinedup.evaluation import services
from joinedup.evaluation.models import ResearchExtract
from joinedup.evaluation.tests.test_extract import END, START, cohort  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "reports"]),
]

# The data fixtures come before `page`: a live server started before the test database is
# set up leaves a connection open.


def test_a_researcher_runs_an_extract_and_downloads_it(hub, cohort, page, tmp_path):  # noqa: F811
    login(page, hub.researcher)
    page.goto("/reports/extracts/")
    assert_accessible(page)
    page.get_by_label("Episodes starting from").fill("2025-01-01")
    page.get_by_label("Up to (not including)").fill("2026-01-01")
    page.get_by_label("Wellbeing (University of Northbridge)").check()
    page.get_by_label("Talking Therapies (Northbridge NHS Trust)").check()
    page.get_by_role("button", name="Run extract").click()
    expect(page.get_by_role("heading", name="Research extract", exact=True)).to_be_visible()
    expect(page.get_by_text("Ready to download")).to_be_visible()
    expect(
        page.get_by_text("Left out by the national data opt-out: 1 episode of 1 student.")
    ).to_be_visible()
    # The release note says how the service and the referral month were shown too.
    shown = page.get_by_text("How each quasi-identifier is shown:")
    expect(shown).to_contain_text("Service:")
    expect(shown).to_contain_text("Referral month:")
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the extract (zip)").click()
    path = tmp_path / "downloaded.zip"
    download_info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert {"extract.csv", "extract.parquet", "data_dictionary.csv", "release_note.txt"} <= set(
            archive.namelist()
        )
    assert AuditEvent.objects.filter(action="evaluation.extract.downloaded").count() == 1


def test_the_status_page_shows_progress_until_the_extract_is_ready(hub, cohort, page):  # noqa: F811
    # Queued but not yet built, as when a worker has not picked it up.
    extract = ResearchExtract.objects.create(
        requested_by=hub.researcher, starts_on=START, ends_on=END
    )
    extract.services.set([hub.wellbeing])
    login(page, hub.researcher)
    page.goto(f"/reports/extracts/{extract.uuid}/")
    expect(page.get_by_text("Waiting to start")).to_be_visible()
    expect(page.get_by_text("0% done")).to_be_visible()
    assert_accessible(page)

    services.build_extract(extract.pk)  # what the background task does
    expect(page.get_by_text("Ready to download")).to_be_visible(timeout=8_000)
    expect(page.get_by_text("100% done")).to_be_visible()
    expect(page.get_by_role("link", name="Download the extract (zip)")).to_be_visible()
    assert_accessible(page)
