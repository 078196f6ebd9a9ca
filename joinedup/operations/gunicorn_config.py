"""Gunicorn's settings for `joinedup serve`: synchronous workers, replaced after a while so
that no slow leak grows, and a worker that hangs replaced after `GUNICORN_TIMEOUT` seconds."""

import os

worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
accesslog = None  # the app writes each request's line, with its request id
errorlog = "-"
# Nothing here uses gunicorn's control socket, and several servers on one machine (behind
# one proxy) would share its one path.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
