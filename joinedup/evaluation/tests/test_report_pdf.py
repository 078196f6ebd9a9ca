"""A report's PDF says what its page says: every table's header and every row with its
figures in the page's column order, and the charts' figures, read back from the PDF's text."""

import io
import re

import pypdf
from django.template.loader import render_to_string
from django.urls import reverse

from joinedup.evaluation.report_views import _bars
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
    assert "shown as *. A dash means there is nothing to show." in text  # as the page says
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
        assert f"{code} {first:.1f} to {last:.1f}" in text  # as the page shows a mean
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


def test_the_pdf_draws_each_pre_post_chart_as_the_page_does():
    """A CORE-10 chart (0 to 40, index 6, cut-off 11) on a 260-pixel square 50 pixels from
    the left and 10 from the top: a score s is at 50 + s × 6.5 across and 270 - s × 6.5 up."""
    from django.template.loader import render_to_string

    from joinedup.evaluation.report_views import _prepost

    cells = [{"x": 20.0, "y": 8.0, "n": 10}, {"x": 30.0, "y": 29.0, "n": None}]
    chart = {"code": "CORE-10", "min": 0, "max": 40, "cutoff": 11, "rci": 6, "hidden": "0",
             "cells": cells}  # fmt: skip
    drawing = _prepost(chart)
    assert drawing["bubbles"] == [{"x": 180.0, "y": 218.0, "r": round(3 + 2 * 10**0.5, 1),
                                   "n": 10}]  # fmt: skip
    assert [(line["kind"], line["x1"], line["y1"], line["x2"], line["y2"])
            for line in drawing["lines"]] == [
        ("none", 50.0, 270.0, 310.0, 10.0),
        ("reliable", 89.0, 270.0, 310.0, 49.0),  # last = first - 6
        ("reliable", 50.0, 231.0, 271.0, 10.0),  # last = first + 6
        ("cutoff", 121.5, 270.0, 121.5, 10.0),
        ("cutoff", 50.0, 198.5, 310.0, 198.5),
    ]  # fmt: skip
    svg = render_to_string("evaluation/_pdf_prepost.html", {"chart": drawing})
    assert '<circle cx="180.0" cy="218.0" r="9.3" fill="#005eb8"' in svg
    assert 'stroke="#d5281b" stroke-dasharray="4 4"' in svg
    assert "Reliable change limits" in svg
    no_index = render_to_string("evaluation/_pdf_prepost.html",
                                {"chart": _prepost(chart | {"rci": None})})  # fmt: skip
    assert "Reliable change limits" not in no_index
    assert [t["score"] for t in drawing["ticks"]] == ["0", "10", "20", "30", "40"]
    phq9 = _prepost(chart | {"max": 27})
    assert [t["score"] for t in phq9["ticks"]] == ["0", "5", "10", "15", "20", "25", "27"]
    wemwbs = _prepost(chart | {"min": 14, "max": 70})
    assert [t["score"] for t in wemwbs["ticks"]] == ["14", "20", "30", "40", "50", "60", "70"]
    assert 'stroke="#d5281b"' not in no_index


def test_each_chart_of_the_pdf_is_on_the_page_of_its_heading(client, hub, wellbeing_caseload):  # noqa: F811
    client.force_login(hub.service_manager)
    pdf = client.get(reverse("evaluation:report-pdf"), query(hub, breakdown="gender")).content
    pages = [
        re.sub(r"\s+", " ", page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
    ]
    assert any("Outcomes on the" in page for page in pages), "a pre/post chart is drawn"
    for page in pages:
        for heading in re.findall(r"Outcomes on the (\S+): first and last scores", page):
            # Its chart (the legend says what a bubble is) is on the same page.
            assert "A cell of 8 or more episodes, larger for more" in page, heading
        if "Waits to first contact, by length (all students)" in page:
            assert "18 weeks or more" in page  # the chart's last bar
    # Whatever the figures, each chart is kept whole with its heading: one unbreakable block.
    report = client.get(reverse("evaluation:report"), query(hub)).context["report"]
    html = render_to_string(
        "evaluation/report_pdf.html", {"report": report, "description": "", "bars": _bars(report)}
    )
    assert re.search(r"\.chart \{ break-inside: avoid; \}|, \.chart \{ break-inside: avoid", html)
    blocks = re.findall(r'<div class="chart">(.*?)</div>', html, re.S)
    assert len(blocks) == 2 + len(report["charts"]["prepost"])  # waits, scores, each pre/post
    assert all(block.lstrip().startswith("<h2>") and "<svg" in block for block in blocks)
