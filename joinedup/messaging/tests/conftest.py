from joinedup.reminders.tests.conftest import notify  # noqa: F401  (GOV.UK Notify, locally)
