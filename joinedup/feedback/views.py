"""Pages of feedback, "you said, we did" and student advisory groups."""

from contextlib import suppress

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.consent.policy import audit_listing, decide, readable_students
from joinedup.feedback import forms, selectors, services
from joinedup.feedback.models import AdvisoryGroup, Draft, GroupAction, Theme
from joinedup.lib.http import safe_next
from joinedup.people.models import Role
from joinedup.people.permissions import capability_required, is_staff_member


def _own_student(request):
    student = getattr(request.user, "student_record", None)
    if student is None:
        raise PermissionDenied
    return student


def _errors(error: ValidationError) -> list[str]:
    return list(error.messages)


# The student's side


@login_required
def give(request, episode_uuid):
    student = _own_student(request)
    episode = selectors.open_invitations(student).filter(uuid=episode_uuid).first()
    if episode is None:
        messages.info(request, _("That feedback invitation has been answered already."))
        return redirect("portal:home")
    form = forms.FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.give_feedback(
                student=student,
                episode_uuid=episode_uuid,
                anonymous=data.pop("anonymous"),
                answers=services.Answers(**data),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Thank you. Your feedback has been sent."))
            return redirect("portal:home")
    return render(
        request,
        "feedback/give.html",
        {"form": form, "episode": episode},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def decline(request, episode_uuid):
    with suppress(ValidationError):  # already answered or declined: nothing left to do
        services.decline_invitation(student=_own_student(request), episode_uuid=episode_uuid)
    messages.info(request, _("We will not ask about that again."))
    return redirect("portal:home")


@login_required
def you_said_we_did(request):
    """Themes from feedback and what each service and university did about them."""
    actions = selectors.published_actions()
    student = getattr(request.user, "student_record", None)
    if student is not None and request.GET.get("mine") == "1":
        actions = actions.filter(themes__feedback__student=student).distinct()
    places: dict = {}
    for action in actions:
        places.setdefault(action.service or action.organisation, []).append(action)
    return render(request, "feedback/you_said_we_did.html", {"places": places})


# The staff side


@login_required
@capability_required(is_staff_member)
def feedback_list(request):
    """Feedback on the services I work in, newest first, to read and tag with themes.
    Named feedback shows the student's name only when the policy lets me read it."""
    services_of = selectors.feedback_services_of(request.user)
    if not services_of.exists():
        raise PermissionDenied
    chosen = request.GET.get("service", "")
    listing = selectors.feedback_for_staff(request.user, [chosen] if chosen.isdigit() else None)
    theme = request.GET.get("theme", "")
    if theme.isdigit():
        listing = listing.filter(themes=theme)
    page = Paginator(listing, 25).get_page(request.GET.get("page"))
    named = [f.student for f in page if f.student_id]
    readable = readable_students(request.user, "identity", among=[s.pk for s in named])
    readable_ids = set(readable.values_list("pk", flat=True))
    audit_listing(
        request.user,
        [s for s in named if s.pk in readable_ids],
        action="feedback.list",
        reason="Named feedback on the service",
        request=request,
        categories=lambda s: ("identity",),
    )
    rows = [
        (f, f.student if f.student_id in readable_ids else None, forms.TagForm(feedback=f))
        for f in page
    ]
    return render(
        request,
        "feedback/list.html",
        {
            "page": page,
            "rows": rows,
            "services": services_of,
            "chosen": chosen,
            "themes": Theme.objects.filter(service__in=services_of).select_related("service"),
            "theme": theme,
        },
    )


@login_required
@require_POST
def tag(request, feedback_uuid):
    feedback = get_object_or_404(selectors.feedback_for_staff(request.user), uuid=feedback_uuid)
    form = forms.TagForm(request.POST, feedback=feedback)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.tag_feedback(
            actor=request.user,
            feedback=feedback,
            theme_ids=[t.pk for t in form.cleaned_data["themes"]],
            new_themes=form.cleaned_data["new_themes"].split(","),
            request=request,
        )
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    else:
        messages.success(request, _("Themes saved."))
    return redirect(safe_next(request, reverse("feedback:list")))


def _scopes(user):
    """Where a manager may act: each service they manage, and whole organisations."""
    scopes = []
    for membership in user.memberships.filter(role=Role.SERVICE_MANAGER).select_related(
        "organisation", "service"
    ):
        if membership.service is None:
            scopes.append(
                (f"o{membership.organisation.pk}", membership.organisation.name,
                 membership.organisation, None)
            )  # fmt: skip
            for service in membership.organisation.services.all():
                scopes.append((f"s{service.pk}", service.name, membership.organisation, service))
        else:
            scopes.append(
                (f"s{membership.service.pk}", membership.service.name,
                 membership.organisation, membership.service)
            )  # fmt: skip
    return scopes


@login_required
@capability_required(is_staff_member)
def actions(request):
    """ "You said, we did": the actions I manage, and a new one."""
    scopes = _scopes(request.user)
    if not scopes:
        raise PermissionDenied
    organisations = {organisation for _v, _l, organisation, _s in scopes}
    themes = Theme.objects.filter(service__organisation__in=organisations).select_related("service")
    form = forms.ActionForm(request.POST or None, scopes=scopes, themes=themes)
    if request.method == "POST" and form.is_valid():
        organisation, service = form.scopes[form.cleaned_data["scope"]]
        try:
            action = services.create_action(
                actor=request.user,
                organisation=organisation,
                service=service,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                themes=list(form.cleaned_data["themes"]),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Action published to students."))
            return redirect("feedback:action", action.uuid)
    return render(
        request,
        "feedback/actions.html",
        {"actions": selectors.actions_for_manager(request.user), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@capability_required(is_staff_member)
def action_detail(request, action_uuid):
    action = get_object_or_404(selectors.actions_for_manager(request.user), uuid=action_uuid)
    form = forms.ActionStatusForm(request.POST or None, initial={"status": action.status})
    if request.method == "POST" and form.is_valid():
        try:
            services.change_action_status(
                actor=request.user, action=action, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            told = services.students_who_raised(action).count()
            messages.success(
                request,
                _("Status changed. %(n)s students who raised these themes have been told.")
                % {"n": told},
            )
            return redirect("feedback:action", action.uuid)
    return render(
        request,
        "feedback/action_detail.html",
        {"action": action, "form": form, "updates": action.updates.select_related("by")},
        status=400 if form.errors else 200,
    )


# Student advisory groups


@login_required
def groups(request):
    form = forms.GroupForm(request.POST or None)
    scopes = _scopes(request.user) if is_staff_member(request.user) else []
    if request.method == "POST":
        if not scopes:
            raise PermissionDenied
        scope = {value: (org, service) for value, _l, org, service in scopes}.get(
            request.POST.get("scope", "")
        )
        if scope is None:
            form.add_error(None, _("Choose which service or organisation the group advises."))
        elif form.is_valid():
            group = form.save(commit=False)
            group.organisation, group.service = scope
            group.save()
            return redirect("feedback:group", group.uuid)
    return render(
        request,
        "feedback/groups.html",
        {"groups": selectors.groups_for(request.user), "form": form, "scopes": scopes},
        status=400 if form.errors else 200,
    )


def _readable_names(request, students, group: AdvisoryGroup) -> set[int]:
    """The ids of these students (group members) whose names the policy lets the user read;
    each student shown is audited on the basis the policy decides, refusals too. Running a
    group gives no access of its own: a service manager reads names only where they also
    hold a practitioner's relationship with the student, or the student's consent."""
    shown = list({s.pk: s for s in students}.values())
    if not shown:
        return set()
    readable = readable_students(request.user, "identity", among=[s.pk for s in shown])
    audit_listing(
        request.user,
        shown,
        action="feedback.group.names_read",
        reason=f"Member of the advisory group “{group.name}”",
        request=request,
    )
    return set(readable.values_list("pk", flat=True))


def _group_for(request, group_uuid) -> AdvisoryGroup:
    return get_object_or_404(selectors.groups_for(request.user), uuid=group_uuid)


@login_required
def group_detail(request, group_uuid, *, part=None, part_form=None):
    group = _group_for(request, group_uuid)
    managing = selectors.can_manage_group(request.user, group)
    student = getattr(request.user, "student_record", None)
    members = list(group.members.all()) if managing else None
    named = _readable_names(request, members, group) if managing else set()
    forms_by_part = {
        name: (part_form if name == part else form_class(prefix=name))
        for name, form_class in forms.GROUP_PARTS.items()
    }
    return render(
        request,
        "feedback/group.html",
        {
            "group": group,
            "managing": managing,
            "is_member": student is not None and group.members.filter(pk=student.pk).exists(),
            "members": members and [(m, m.pk in named) for m in members],
            "names_withheld": bool(members) and len(named) < len(members),
            "meetings": group.meetings.all(),
            "actions": group.actions.select_related("meeting"),
            "decisions": group.decisions.select_related("meeting"),
            "drafts": group.drafts.all(),
            "part_forms": forms_by_part if managing else {},
            "member_form": forms.MemberForm(prefix="member") if managing else None,
        },
        status=400 if part_form is not None else 200,
    )


@login_required
@require_POST
def group_add(request, group_uuid, part):
    """A manager adds a meeting, action, decision or draft, or a member, to a group."""
    group = _group_for(request, group_uuid)
    if not selectors.can_manage_group(request.user, group):
        raise PermissionDenied
    if part == "member":
        form = forms.MemberForm(request.POST, prefix="member")
        if form.is_valid():
            try:
                student = services.add_member(
                    actor=request.user,
                    group=group,
                    student_number=form.cleaned_data["student_number"],
                    request=request,
                )
            except ValidationError as error:
                messages.error(request, " ".join(_errors(error)))
            else:
                messages.success(request, _joined(request, student, form, group))
        return redirect("feedback:group", group.uuid)
    form_class = forms.GROUP_PARTS.get(part)
    if form_class is None:
        raise PermissionDenied
    form = form_class(request.POST, prefix=part)
    if not form.is_valid():
        return group_detail(request, group_uuid, part=part, part_form=form)
    with transaction.atomic():
        item = form.save(commit=False)
        item.group = group
        item.save()
    messages.success(request, _("Saved."))
    return redirect("feedback:group", group.uuid)


def _joined(request, student, form, group) -> str:
    """Who joined, by name only when the policy lets the manager read it (audited)."""
    if decide(request.user, student, "identity", request=request).allowed:
        return _("%(name)s joined the group.") % {"name": student.display_name}
    return _("The student with the number %(number)s joined the group.") % {
        "number": form.cleaned_data["student_number"].strip()
    }


@login_required
@require_POST
def group_action_done(request, group_uuid, action_id):
    group = _group_for(request, group_uuid)
    if not selectors.can_manage_group(request.user, group):
        raise PermissionDenied
    GroupAction.objects.filter(group=group, pk=action_id).update(status=GroupAction.Status.DONE)
    return redirect("feedback:group", group.uuid)


@login_required
def draft(request, draft_uuid):
    """A proposed service change: members comment before it goes live; managers read the
    comments."""
    # Another organisation's draft is missing, not forbidden: its id tells nothing.
    item = get_object_or_404(
        Draft.objects.filter(group__in=selectors.groups_for(request.user)).select_related(
            "group__organisation", "group__service"
        ),
        uuid=draft_uuid,
    )
    managing = selectors.can_manage_group(request.user, item.group)
    student = getattr(request.user, "student_record", None)
    is_member = student is not None and item.group.members.filter(pk=student.pk).exists()
    form = forms.CommentForm(request.POST or None)
    if request.method == "POST":
        if not is_member:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.comment_on_draft(
                    student=student, draft=item, text=form.cleaned_data["text"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Thank you. Your comment has been sent."))
                return redirect("feedback:draft", item.uuid)
    comments = item.comments.select_related("student")
    named = set()
    if managing:
        named = _readable_names(request, [c.student for c in comments], item.group)
    else:
        comments = comments.filter(student=student) if student else comments.none()
    return render(
        request,
        "feedback/draft.html",
        {"draft": item, "form": form if is_member else None,
         "comments": [(c, c.student_id in named) for c in comments], "managing": managing},
        status=400 if form.errors else 200,
    )  # fmt: skip
