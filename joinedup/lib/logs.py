"""Log lines that say which request they belong to: the request id the audit log records
(`X-Request-Id`) is kept for the request's duration and added to every line written
meanwhile, and each request ends with one line saying what it was and how it went."""

import logging
import time
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
requests = logging.getLogger("joinedup.request")


class RequestIdFilter(logging.Filter):
    """Add `request_id` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def log_request(request, response, started: float) -> None:
    """One line per request: method, path (never the query string, which may hold a name
    someone searched for), status, duration and who (by id)."""
    user = getattr(request, "user", None)
    requests.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
        },
    )
