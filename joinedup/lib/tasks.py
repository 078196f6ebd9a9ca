"""Tasks run at once (development and tests) as a worker runs them: in the default language,
whatever language the request that queued them was in. A task that writes to a student sets
the student's own (`Student.in_own_language`)."""

from django.conf import settings
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import translation


class ImmediateInDefaultLanguage(ImmediateBackend):
    def _execute_task(self, task_result):
        with translation.override(settings.LANGUAGE_CODE):
            return super()._execute_task(task_result)
