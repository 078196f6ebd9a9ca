from django.urls import path

from joinedup.portal import appointment_views, message_views, reminder_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("consents/<uuid:grant_uuid>/withdraw/", views.grant_withdraw, name="grant-withdraw"),
    path("trusted-contact/", views.trusted_contact, name="trusted-contact"),
    path("name/", views.name, name="name"),
    path("data.json", views.my_data, {"fmt": "json"}, name="my-data"),
    path("data.pdf", views.my_data, {"fmt": "pdf"}, name="my-data-pdf"),
    path("data.fhir.json", views.my_data, {"fmt": "fhir.json"}, name="my-data-fhir"),
    path("notifications/", views.notifications, name="notifications"),
    path("choices/", views.choices, name="choices"),
    path("consents/", views.consents, name="consents"),
    path("sharing/<uuid:request_uuid>/", views.sharing_answer, name="sharing-answer"),
    path("consents/withdraw-all/", views.consents_withdraw_all, name="consents-withdraw-all"),
    path("consents/preview/<uuid:service_uuid>/", views.consent_preview, name="consent-preview"),
    path("scores/", views.scores, name="scores"),
    path("appointments/", appointment_views.appointments, name="appointments"),
    path(
        "appointments/<uuid:appointment_uuid>/calendar.ics",
        appointment_views.appointment_calendar,
        name="appointment-calendar",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/ask/",
        appointment_views.appointment_ask,
        name="appointment-ask",
    ),
    path("messages/", message_views.messages, name="messages"),
    path("messages/<uuid:service_uuid>/", message_views.message_thread, name="message-thread"),
    path("reminders/", reminder_views.reminders, name="reminders"),
    path("safety-plan/", views.safety_plan, name="safety-plan"),
    path("safety-plan.pdf", views.safety_plan_pdf, name="safety-plan-pdf"),
    path("return-to-study/", views.return_plans, name="return-plans"),
    path(
        "questionnaires/<str:token>/", views.questionnaire_complete, name="questionnaire-complete"
    ),
]
