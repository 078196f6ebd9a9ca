"""Background work of the FHIR server: bulk exports."""

import logging

from django.tasks import task

from joinedup.fhir.export import write_export
from joinedup.fhir.models import ExportJob

logger = logging.getLogger(__name__)


@task
def run_export(job_id: int) -> None:
    """Write a queued export's files; a failure marks the job failed for the client to see."""
    job = (
        ExportJob.objects.select_related("requested_by")
        .filter(pk=job_id, status=ExportJob.Status.QUEUED)
        .first()
    )
    if job is None:  # cancelled before it started
        return
    try:
        write_export(job)
    except Exception:
        logger.exception("FHIR export %s failed", job.uuid)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error="The export failed on the server. Start a new export; if it fails again, "
            "tell the JoinedUp administrators.",
        )
        raise
