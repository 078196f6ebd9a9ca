"""A local server that answers as GOV.UK Notify's API does, so the real client runs."""

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"joinedup_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"

TEAM_ONLY = (
    400,
    {
        "status_code": 400,
        "errors": [
            {
                "error": "BadRequestError",
                "message": "Can't send to this recipient using a team-only API key",
            }
        ],
    },
)
FORBIDDEN = (
    403,
    {"status_code": 403, "errors": [{"error": "AuthError", "message": "Invalid token: signature"}]},
)
BROKEN = (
    500,
    {"status_code": 500, "errors": [{"error": "Exception", "message": "Internal server error"}]},
)


@dataclass
class FakeNotify:
    url: str
    received: list[dict] = field(default_factory=list)
    # Phone number → (status, body) to answer instead of 201.
    refuse: dict[str, tuple[int, dict]] = field(default_factory=dict)

    def answer(self, path: str, headers, body: dict) -> tuple[int, dict]:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return FORBIDDEN
        self.received.append({"path": path, "claims": claims, "body": body})
        if path != "/v2/notifications/sms" or claims.get("iss") != SERVICE_ID:
            return FORBIDDEN
        if body["phone_number"] in self.refuse:
            return self.refuse[body["phone_number"]]
        notification_id = str(uuid.uuid4())
        return 201, {
            "id": notification_id,
            "reference": body.get("reference"),
            "content": {"body": body["personalisation"]["message"], "from_number": "GOVUK"},
            "uri": f"{self.url}/v2/notifications/{notification_id}",
            "template": {
                "id": body["template_id"],
                "version": 1,
                "uri": f"{self.url}/services/{SERVICE_ID}/templates/{body['template_id']}",
            },
            "scheduled_for": None,
        }


@pytest.fixture
def notify(settings):
    """Notify's API on 127.0.0.1, with the hub's settings pointing at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeNotify(url=f"http://127.0.0.1:{server.server_port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = fake.answer(self.path, self.headers, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_BASE_URL = fake.url
    settings.NOTIFY_SMS_TEMPLATE_ID = TEMPLATE_ID
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()
