"""Pages for research extracts, evaluation projects and saved report snapshots.

Only researchers and service managers reach them; each object is fetched through a
`get_<thing>_for_user` helper, so another organisation's project, or someone else's extract,
is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from joinedup.evaluation import services
from joinedup.evaluation.forms import (
    STAGE_FORMS,
    ConductForm,
    ExtractForm,
    ReportForm,
    SaveReportForm,
)
from joinedup.evaluation.models import ResearchExtract
from joinedup.evaluation.report_views import csv_response, pdf_response, report_filename
from joinedup.evaluation.research import PseudonymKeyMissing
from joinedup.people.permissions import capability_required

evaluator_required = capability_required(services.can_evaluate)


# --- Research extracts ---------------------------------------------------------------------


@login_required
@evaluator_required
def extract_list(request):
    """Ask for a research extract, and list the ones I have run."""
    form = ExtractForm(
        request.POST if request.method == "POST" else None,
        services=services.extract_services_for(request.user),
    )
    if form.is_valid():
        try:
            extract = services.start_extract(
                actor=request.user, **form.cleaned_data, request=request
            )
        except PseudonymKeyMissing as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("evaluation:extract-detail", extract.uuid)
    extracts = ResearchExtract.objects.filter(requested_by=request.user)[:25]
    return render(request, "evaluation/extracts/list.html", {"form": form, "extracts": extracts})


@login_required
@evaluator_required
def extract_detail(request, extract_uuid):
    """An extract's progress, release note and download link."""
    extract = services.get_extract_for_user(request.user, extract_uuid)
    return render(request, "evaluation/extracts/detail.html", {"extract": extract})


@login_required
@evaluator_required
@require_GET
def extract_status(request, extract_uuid):
    """The status panel alone, polled by htmx until the extract is finished."""
    extract = services.get_extract_for_user(request.user, extract_uuid)
    return render(request, "evaluation/extracts/_status.html", {"extract": extract})


@login_required
@evaluator_required
@require_GET
def extract_download(request, extract_uuid):
    """The extract's zip, for the person who ran it only; every download is audited."""
    extract = services.get_extract_for_user(request.user, extract_uuid)
    path = services.extract_file(extract) if extract.status == extract.Status.DONE else None
    if path is None:
        raise Http404("The extract has no files to download.")
    services.record_download(actor=request.user, extract=extract, request=request)
    name = f"joinedup-research-extract-{extract.starts_on:%Y-%m}-{extract.ends_on:%Y-%m}.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


# --- Evaluation projects -------------------------------------------------------------------


@login_required
@evaluator_required
def project_list(request):
    projects = services.projects_for(request.user)
    return render(request, "evaluation/projects/list.html", {"projects": projects})


@login_required
@evaluator_required
def project_create(request):
    """Start a project by planning it; the other stages are filled in as it goes."""
    form = STAGE_FORMS["plan"](request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            project = services.create_project(actor=request.user, values=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Evaluation project started."))
            return redirect("evaluation:project-detail", project.uuid)
    return render(
        request,
        "evaluation/projects/form.html",
        {"form": form, "stage": "plan", "project": None},
    )


@login_required
@evaluator_required
def project_detail(request, project_uuid):
    """A project's four stages; of its linked snapshots, only those the viewer may open."""
    project = services.get_project_for_user(request.user, project_uuid)
    saved_reports = services.saved_reports_for(request.user).filter(projects=project)
    hidden = project.saved_reports.count() - len(saved_reports)
    return render(
        request,
        "evaluation/projects/detail.html",
        {"project": project, "saved_reports": saved_reports, "hidden_saved_reports": hidden},
    )


@login_required
@evaluator_required
def project_edit(request, project_uuid, stage):
    """Edit one stage of a project: plan, conduct, report or share."""
    project = services.get_project_for_user(request.user, project_uuid)
    if stage not in STAGE_FORMS:
        raise Http404("No such stage.")
    data = request.POST if request.method == "POST" else None
    extra = {}
    if STAGE_FORMS[stage] is ConductForm:
        extra["saved_reports"] = services.saved_reports_for(request.user)
    form = STAGE_FORMS[stage](data, instance=project, **extra)
    if form.is_valid():
        try:
            services.update_project(actor=request.user, project=project, values=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("evaluation:project-detail", project.uuid)
    return render(
        request,
        "evaluation/projects/form.html",
        {"form": form, "stage": stage, "project": project},
    )


# --- Saved reports -------------------------------------------------------------------------


@login_required
@evaluator_required
def saved_report_list(request):
    reports = services.saved_reports_for(request.user)
    return render(request, "evaluation/projects/saved_report_list.html", {"reports": reports})


@login_required
@evaluator_required
def saved_report_create(request):
    """Save the report the GET parameters describe (the same as the report page's, read by
    the same form) as a frozen snapshot: asks for a name, then stores the figures as they
    are now. Parameters the report page would refuse are refused here, with its messages."""
    parameters_form = ReportForm(request.GET, user=request.user)
    parameters = parameters_form.parameters() if parameters_form.is_valid() else None
    form = SaveReportForm(request.POST if request.method == "POST" else None)
    if parameters is not None and form.is_valid():
        try:
            report = services.save_report(
                actor=request.user,
                parameters=parameters,
                title=form.cleaned_data["title"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Report saved. These figures will not change."))
            return redirect("evaluation:saved-report-detail", report.uuid)
    return render(
        request,
        "evaluation/projects/saved_report_form.html",
        {"form": form, "parameters": parameters, "problems": parameters_form.problems()},
        status=400 if parameters is None else 200,
    )


@login_required
@evaluator_required
@require_GET
def saved_report_detail(request, report_uuid):
    """A snapshot's frozen figures and charts, exactly as saved; nothing is recomputed.
    Each opening is audited, as each run of a live report is."""
    report = _saved_report_used(request, report_uuid, "evaluation.saved_report.viewed")
    return render(request, "evaluation/projects/saved_report_detail.html", {"report": report})


@login_required
@evaluator_required
@require_GET
def saved_report_csv(request, report_uuid):
    """A snapshot's frozen figures as the live report's CSV (audited)."""
    report = _saved_report_used(request, report_uuid, "evaluation.saved_report.exported_csv")
    return csv_response(report.figures, report_filename(report.figures, "saved-report"))


@login_required
@evaluator_required
@require_GET
def saved_report_pdf(request, report_uuid):
    """A snapshot's frozen figures as the live report's PDF (audited)."""
    report = _saved_report_used(request, report_uuid, "evaluation.saved_report.exported_pdf")
    description = _("Saved report snapshot “%(title)s”, frozen on %(saved)s: %(what)s.") % {
        "title": report.title,
        "saved": f"{report.saved_at:%d %B %Y}",
        "what": services.describe_saved_report(report),
    }
    return pdf_response(
        report.figures, description, report_filename(report.figures, "saved-report")
    )


def _saved_report_used(request, report_uuid, action: str):
    """The snapshot, if the user may open it (else 404, and nothing audited), with this use
    audited."""
    report = services.get_saved_report_for_user(request.user, report_uuid)
    services.record_saved_report_use(
        actor=request.user, report=report, action=action, request=request
    )
    return report
