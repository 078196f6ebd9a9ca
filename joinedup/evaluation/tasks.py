"""Background work of the evaluation app: research extracts, which can take minutes."""

from django.tasks import task

from joinedup.evaluation import services


@task
def build_extract(extract_id: int) -> None:
    """Build a research extract's files; progress is written to the extract as it goes."""
    services.build_extract(extract_id)
