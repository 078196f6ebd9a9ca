"""A report's PDF says what its page says: every table's header and every row with its
figures in the page's column order, and the charts' figures, read back from the PDF's text."""

import io
import re

import pypdf
from django.urls import reverse

from joinedup.evaluation.tests.test_report_views import query, wellbeing_caseload  # noqa: F401


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def test_every_figure_on_the_page_is_in_the_pdf_in_its_column(client, hub, wellbeing_caseload):  # noqa: F811
    client.force_login(hub.service_manager)
    parameters = query(hub, breakdown="gender")
    page = client.get(reverse("evaluation:report"), parameters)
    report = page.context["report"]
    text = _text(client.get(reverse("evaluation:report-pdf"), parameters).content)

    assert "Woman" in report["groups"]
    assert f"Figure {' '.join(report['groups'])}" in text
    rows = 0
    for table in report["tables"]:
        assert f"{table['section']}: {table['title']}" in text
        for row in table["rows"]:
            assert f"{row['label']} {' '.join(row['values'])}" in text, row
            rows += 1
    assert rows > 50
    waiting = report["charts"]["waiting"]
    for label, value in zip(waiting["labels"], waiting["datasets"][0]["data"], strict=True):
        assert f"{label} {'*' if value is None else f'{value:g}'}" in text
    scores = report["charts"]["scores"]
    for code, first, last in zip(scores["labels"], scores["first"], scores["last"], strict=True):
        assert f"{code} {first:g} to {last:g}" in text
    assert report["charts"]["prepost"][0]["cells"], "the caseload's CORE-10 cell is drawn"
    for chart in report["charts"]["prepost"]:
        hidden = f"not drawn: {chart['hidden']})"
        assert (
            f"{chart['code']}: episodes by first and last score (in cells of fewer than 8, {hidden}"
            in text
        )
        for cell in chart["cells"]:
            keys = ("first", "last", "n", "mean_first", "mean_last")
            assert " ".join(str(cell[key]) for key in keys) in text, cell
