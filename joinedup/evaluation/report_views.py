"""The service report (page, CSV and PDF) and the benchmarking page.

Only researchers and service managers run them; a service manager chooses among their own
organisation's services. Every figure comes from `reports.build_report` or
`reports.build_benchmark`, already through disclosure control, and every run is audited.
The CSV and PDF renderers also serve saved snapshots, fed from their frozen figures.
"""

import csv
import io
import math
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from joinedup.evaluation import reports
from joinedup.evaluation.forms import CalibrationForm, PeriodForm, ReportForm
from joinedup.lib.pdf import render_pdf
from joinedup.measures.models import Calibration
from joinedup.people.permissions import capability_required

report_runner_required = capability_required(reports.can_run_reports)


def _default_period() -> dict:
    today = timezone.localdate()
    return {"start": today - timedelta(days=365), "end": today + timedelta(days=1)}


def _run(request, action: str):
    """The form and, when it is valid, the report it asks for (audited)."""
    form = ReportForm(request.GET or None, user=request.user, initial=_default_period())
    if not form.is_valid():
        return form, None, ""
    parameters = form.parameters()
    report = reports.build_report(parameters)
    description = reports.describe(parameters, form.cleaned_data["service"])
    reports.record_report_run(
        actor=request.user, action=action, description=description, request=request
    )
    return form, report, description


@require_GET
@login_required
@report_runner_required
def report(request):
    """The service report for a period and services, optionally by student group."""
    form, built, description = _run(request, "evaluation.report.viewed")
    return render(
        request,
        "evaluation/report.html",
        {"form": form, "report": built, "description": description,
         "query": request.GET.urlencode(),
         "can_calibrate": reports.managed_services_for(request.user).exists()},
        status=400 if request.GET and not form.is_valid() else 200,
    )  # fmt: skip


@require_GET
@login_required
@report_runner_required
def report_csv(request):
    """The same report as a CSV file: one row per figure and student group."""
    form, built, _description = _run(request, "evaluation.report.exported_csv")
    if built is None:
        return render(request, "evaluation/report.html", {"form": form}, status=400)
    return csv_response(built, report_filename(built))


@require_GET
@login_required
@report_runner_required
def report_pdf(request):
    """The same report as a PDF, drawn by WeasyPrint. Its charts (waits by length, mean
    first and last scores) are SVG bars drawn on the server from the same disclosed figures;
    the flows are given as their table."""
    form, built, description = _run(request, "evaluation.report.exported_pdf")
    if built is None:
        return render(request, "evaluation/report.html", {"form": form}, status=400)
    return pdf_response(built, description, report_filename(built))


@login_required
@capability_required(lambda user: reports.managed_services_for(user).exists())
def calibration(request):
    """Set a service's standard deviation of first scores and reliability for a measure with
    no published reliable change index; lists what each of the manager's services has set."""
    form = CalibrationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        held = Calibration.objects.filter(service=data["service"], code=data["code"]).first()
        Calibration.objects.update_or_create(
            service=data["service"],
            code=data["code"],
            defaults={"first_score_sd": data["first_score_sd"], "reliability": data["reliability"],
                      "set_by": request.user, "set_at": timezone.now()},
        )  # fmt: skip
        was = f" (was SD {held.first_score_sd:g}, reliability {held.reliability:g})" if held else ""
        reports.record_report_run(
            actor=request.user,
            action="evaluation.calibration.set",
            description=f"{data['code']} for {data['service'].name}: SD "
            f"{data['first_score_sd']:g}, reliability {data['reliability']:g}{was}",
            request=request,
        )
        messages.success(
            request,
            _("Saved. Every report run from now on, for any period, works out reliable change "
              "on the %(code)s for %(service)s with it.")
            % {"code": data["code"], "service": data["service"].name},
        )  # fmt: skip
        return redirect("evaluation:calibration")
    services = form.fields["service"].queryset
    return render(
        request,
        "evaluation/calibration.html",
        {
            "form": form,
            "calibrations": Calibration.objects.filter(service__in=services)
            .select_related("service", "set_by")
            .order_by("service__name", "code"),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@login_required
@report_runner_required
def benchmarking(request):
    """Headline figures side by side for every service and institution, and funnel plots."""
    form = PeriodForm(request.GET or None, initial=_default_period())
    benchmark = None
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        benchmark = reports.build_benchmark(start, end)
        reports.record_report_run(
            actor=request.user,
            action="evaluation.benchmark.viewed",
            description=f"{start:%d %B %Y} to {end:%d %B %Y} (not including); all services",
            request=request,
        )
    return render(
        request,
        "evaluation/benchmarking.html",
        {"form": form, "benchmark": benchmark},
        status=400 if request.GET and not form.is_valid() else 200,
    )


def report_filename(built: dict, prefix: str = "service-report") -> str:
    """A download's name (without its suffix): what it covers (the one service, or how many),
    its breakdown and its period from its first to its last day (the end is not included),
    so that several downloads are told apart."""
    period = built["parameters"]
    last = date.fromisoformat(period["end"]) - timedelta(days=1)
    services = built.get("services", [])
    covers = slugify(services[0]["name"]) if len(services) == 1 else f"{len(services)}-services"
    label = built.get("breakdown_label")
    by = f"-by-{slugify(label)}" if period.get("breakdown") and label else ""
    return f"{prefix}-{covers}{by}-{period['start']}-to-{last}"


def csv_response(built: dict, filename: str) -> HttpResponse:
    """A built report (live or a snapshot's frozen figures) as a CSV download: one row per
    figure and student group."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte order mark: Excel then reads the file as UTF-8
    csv.writer(buffer).writerows(reports.csv_rows(built))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def pdf_response(built: dict, description: str, filename: str) -> HttpResponse:
    """A built report (live or a snapshot's frozen figures) as a PDF download, drawn by
    WeasyPrint from the same disclosed figures and chart data."""
    pdf = render_pdf(
        "evaluation/report_pdf.html",
        {"report": built, "description": description, "bars": _bars(built)},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return response


BAR_WIDTH = 380  # pixels for the largest bar of a PDF chart
ROW_HEIGHT = 16


def _bars(built: dict) -> dict:
    """The PDF's bar charts as SVG geometry, drawn from the charts' disclosed numbers (a
    suppressed figure has no bar and shows as *)."""
    charts = built["charts"]
    waiting = charts["waiting"]["datasets"][0]["data"]
    largest = max((v for v in waiting if v), default=0) or 1
    scores = charts["scores"]
    highest = max((v for v in scores["first"] + scores["last"] if v), default=0) or 1

    def shown(value):
        return "*" if value is None else f"{value:g}"

    def mean(value):  # as the page shows a mean score
        return "*" if value is None else f"{value:.1f}"

    waiting_rows = [
        {
            "label": label,
            "y": i * ROW_HEIGHT,
            "shown": shown(value),
            "bars": [
                {
                    "offset": 2,
                    "height": 10,
                    "width": round(BAR_WIDTH * (value or 0) / largest),
                    "muted": False,
                }
            ],
        }
        for i, (label, value) in enumerate(zip(charts["waiting"]["labels"], waiting, strict=True))
    ]
    score_rows = [
        {
            "label": code,
            "y": i * ROW_HEIGHT,
            "shown": f"{mean(first)} to {mean(last)}",
            "bars": [
                {
                    "offset": 1,
                    "height": 6,
                    "width": round(BAR_WIDTH * (first or 0) / highest),
                    "muted": True,
                },
                {
                    "offset": 8,
                    "height": 6,
                    "width": round(BAR_WIDTH * (last or 0) / highest),
                    "muted": False,
                },
            ],
        }
        for i, (code, first, last) in enumerate(
            zip(scores["labels"], scores["first"], scores["last"], strict=True)
        )
    ]
    return {
        "waiting": {"rows": waiting_rows, "height": ROW_HEIGHT * len(waiting_rows)},
        "scores": {"rows": score_rows, "height": ROW_HEIGHT * len(score_rows)},
        "prepost": [_prepost(chart) for chart in charts.get("prepost", [])],
    }


PLOT = 260  # pixels a side of a PDF pre/post chart's plotting area
PLOT_LEFT, PLOT_TOP = 50, 10


def _ticks(low: float, high: float) -> list[float]:
    """The scores an axis is marked at: its ends, and every 5 (every 10 on a range over 30)
    between them."""
    step = 5 if high - low <= 30 else 10
    between = range(math.floor(low / step) * step + step, math.ceil(high), step)
    return [low, *(s for s in between if low < s < high), high]


def _prepost(chart: dict) -> dict:
    """A pre/post chart as SVG geometry, as the page draws it: each drawn cell a bubble of
    its rounded count at its mean first and last score (the same radius), the line of no
    change, the reliable change limits either side where there is one index, and the
    clinical cut-off on both axes."""
    low, high = chart["min"], chart["max"]

    def x(score: float) -> float:
        return round(PLOT_LEFT + (score - low) / (high - low) * PLOT, 1)

    def y(score: float) -> float:
        return round(PLOT_TOP + (high - score) / (high - low) * PLOT, 1)

    def line(kind: str, a: tuple[float, float], b: tuple[float, float]) -> dict:
        return {"kind": kind, "x1": x(a[0]), "y1": y(a[1]), "x2": x(b[0]), "y2": y(b[1])}

    lines = [line("none", (low, low), (high, high))]
    if (rci := chart["rci"]) is not None:
        lines += [
            line("reliable", (low + rci, low), (high, high - rci)),
            line("reliable", (low, low + rci), (high - rci, high)),
        ]
    if (cutoff := chart["cutoff"]) is not None:
        lines += [line("cutoff", (cutoff, low), (cutoff, high)),
                  line("cutoff", (low, cutoff), (high, cutoff))]  # fmt: skip
    return {
        "chart": chart,
        "lines": lines,
        "bubbles": [
            {"x": x(c["x"]), "y": y(c["y"]), "r": round(3 + 2 * math.sqrt(c["n"]), 1), "n": c["n"]}
            for c in chart["cells"]
            if None not in (c["x"], c["y"], c["n"])
        ],
        "ticks": [{"score": f"{s:g}", "x": x(s), "y": y(s)} for s in _ticks(low, high)],
        "size": PLOT,
        "left": PLOT_LEFT,
        "top": PLOT_TOP,
        "right": PLOT_LEFT + PLOT,
        "bottom": PLOT_TOP + PLOT,
        "middle": PLOT_LEFT + PLOT // 2,
    }
