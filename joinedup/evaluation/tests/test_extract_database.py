"""The research extract reads episodes and scores through the `reports` database alias, as
the service reports do, so a deployment can point both at a read replica."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from joinedup.evaluation import services
from joinedup.evaluation.models import ResearchExtract
from joinedup.evaluation.tests.test_extract import END, KEY, START, cohort  # noqa: F401
from joinedup.measures.models import Administration
from joinedup.referrals.models import Episode


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_the_extract_reads_through_the_reports_alias(hub, cohort):  # noqa: F811
    """No shared connection here: the alias is its own connection (a mirror of default)."""
    extract = ResearchExtract.objects.create(
        requested_by=hub.researcher, starts_on=START, ends_on=END
    )
    extract.services.set([hub.wellbeing, hub.talking])
    with (
        CaptureQueriesContext(connections["reports"]) as on_reports,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        rows, note = services.extract_rows(extract, KEY.encode())
    assert note["rows"] == len(rows) > 0
    assert any(row["phq9_first"] == 15 for row in rows)
    for table in (Episode._meta.db_table, Administration._meta.db_table):
        assert any(table in query["sql"] for query in on_reports.captured_queries), table
        assert not any(table in query["sql"] for query in on_default.captured_queries), table
