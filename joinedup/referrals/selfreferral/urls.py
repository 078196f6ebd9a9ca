"""URL patterns of self-referral, included by the referrals app's URLconf."""

from django.urls import path

from joinedup.referrals.selfreferral import views

urlpatterns = [
    path(
        "services/<uuid:service_uuid>/refer-yourself/",
        views.self_referral_create,
        name="self-referral-create",
    ),
    path(
        "services/<uuid:service_uuid>/refer-yourself/sent/",
        views.self_referral_sent,
        name="self-referral-sent",
    ),
    path(
        "self-referrals/<uuid:referral_uuid>/",
        views.self_referral_triage,
        name="self-referral-triage",
    ),
    path(
        "self-referrals/<uuid:referral_uuid>/confirm/",
        views.self_referral_confirm,
        name="self-referral-confirm",
    ),
    path(
        "self-referrals/<uuid:referral_uuid>/reject/",
        views.self_referral_reject,
        name="self-referral-reject",
    ),
]
