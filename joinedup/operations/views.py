import dataclasses
import logging

from asgiref.sync import sync_to_async
from health_check import checks
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Database(checks.Database):
    """The database check, asked through the request's own thread and its connection rather
    than a connection opened for it in another thread. The answer names no host, port or
    user (the driver's message does); the log keeps it."""

    async def run(self):
        await sync_to_async(self._ask, thread_sensitive=True)()

    def _ask(self):
        try:
            super().run()
        except ServiceUnavailable as error:
            logger.warning("Readiness: the database did not answer: %s", error.__cause__ or error)
            raise ServiceUnavailable("the database cannot be reached") from error


READY = (Database, checks.Cache, checks.Storage)


class Health(HealthCheckView):
    """A health check answered in JSON whatever the caller accepts (load balancers and
    orchestrators read it; no one browses it), 503 when a check fails: the service is not
    ready, and says so as every other answer does while the database is away."""

    def render_to_response(self, context, **response_kwargs):
        return self.render_to_response_json(response_kwargs.get("status", 200))

    def render_to_response_json(self, status):
        return super().render_to_response_json(503 if status >= 500 else status)
