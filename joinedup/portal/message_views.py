"""The student's messages with the services working with them."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from joinedup.consent.policy import decide_many
from joinedup.messaging import selectors, services
from joinedup.messaging.forms import MessageForm
from joinedup.messaging.models import Message
from joinedup.people.models import Service
from joinedup.portal.views import _own_student
from joinedup.referrals.directory.help_now import help_now_for
from joinedup.referrals.directory.rules import reads_like_crisis
from joinedup.referrals.models import DirectoryEntry
from joinedup.referrals.views import add_errors


@login_required
def messages(request):
    """The services I can write to now, and every service I have messages with."""
    student = _own_student(request)
    decide_many(request.user, student, ["engagement"], request=request,
                action="portal.messages.read")  # fmt: skip
    unread = Count("pk", filter=Q(from_student=False, read_at=None))
    threads = Message.objects.filter(student=student).order_by().values("service_id")
    counts = {
        row["service_id"]: row for row in threads.annotate(latest=Max("sent_at"), unread=unread)
    }
    in_care = services.in_care_with(student)
    earlier = Service.objects.filter(pk__in=counts).exclude(pk__in=[s.pk for s in in_care])
    rows = [
        {"service": service, "open": service in in_care, **counts.get(service.pk, {})}
        for service in [*in_care, *earlier.select_related("organisation").order_by("name")]
    ]
    return render(request, "portal/messages.html", {"student": student, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def message_thread(request, service_uuid):
    """My messages with one service, oldest first; opening it marks theirs read. I write to
    it while it works with me. A message that reads like a crisis brings help now at once:
    messages are not read out of hours."""
    student = _own_student(request)
    service = Service.objects.select_related("organisation").filter(uuid=service_uuid).first()
    thread = Message.objects.filter(student=student, service=service)
    in_care = service is not None and service in services.in_care_with(student)
    if service is None or not (in_care or thread.exists()):
        raise Http404("No such conversation.")
    decide_many(request.user, student, ["engagement"], request=request,
                action="portal.messages.read")  # fmt: skip
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        body = form.cleaned_data["body"]
        try:
            services.send_from_student(actor=request.user, student=student, service=service,
                                       body=body, request=request)  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            flash.success(request, _("Sent to %(service)s. They read messages in working hours.")
                          % {"service": service.name})  # fmt: skip
            here = reverse("portal:message-thread", args=[service.uuid])
            return redirect(f"{here}?help=now" if reads_like_crisis(body) else here)
    shown = selectors.dressed(list(thread.select_related("service", "author", "student")),
                              by_student=True)  # fmt: skip
    services.mark_read(reader=request.user, messages=shown, by_student=True)
    entry = DirectoryEntry.objects.filter(service=service).first()
    return render(request, "portal/message_thread.html", {
        "new_count": sum(m.is_new for m in shown),
        "hours": entry.weekly_hours if entry and entry.opening_hours else [],
        "student": student, "service": service, "shown": shown, "form": form, "open": in_care,
        "help": help_now_for(student.university), "help_first": request.GET.get("help") == "now",
    }, status=400 if form.errors else 200)  # fmt: skip
