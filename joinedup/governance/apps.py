from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "joinedup.governance"
    verbose_name = "Governance: what organisation admins and data protection officers run"
