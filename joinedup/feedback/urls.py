from django.urls import path

from joinedup.feedback import views

app_name = "feedback"

urlpatterns = [
    path("me/feedback/<uuid:episode_uuid>/", views.give, name="give"),
    path("me/feedback/<uuid:episode_uuid>/decline/", views.decline, name="decline"),
    path("you-said-we-did/", views.you_said_we_did, name="you-said-we-did"),
    path("feedback/", views.feedback_list, name="list"),
    path("feedback/<uuid:feedback_uuid>/themes/", views.tag, name="tag"),
    path("feedback/actions/", views.actions, name="actions"),
    path("feedback/actions/<uuid:action_uuid>/", views.action_detail, name="action"),
    path("groups/", views.groups, name="groups"),
    path("groups/<uuid:group_uuid>/", views.group_detail, name="group"),
    path("groups/<uuid:group_uuid>/add/<slug:part>/", views.group_add, name="group-add"),
    path(
        "groups/<uuid:group_uuid>/actions/<int:action_id>/done/",
        views.group_action_done,
        name="group-action-done",
    ),
    path("groups/drafts/<uuid:draft_uuid>/", views.draft, name="draft"),
]
