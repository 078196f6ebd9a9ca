from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "joinedup.referrals"
