"""The load benchmark's scenario (locust): staff at work, students on the portal and a partner
system on FHIR. `benchmarks/load.py` prepares the accounts, runs it and prints the figures.

It reads from the environment: LOAD_ACCOUNTS (the JSON file of accounts load.py writes),
LOAD_RESULTS (where to write, when the test stops, every request's time, the failures and
how many writes of each kind succeeded), LOAD_THINK (a factor on the time between pages: 0
for saturation), LOAD_FHIR_CLIENT_ID and LOAD_FHIR_CLIENT_SECRET (the partner's client).

Every request is named by its page kind, so that the figures are per kind, not per URL. A
page is a failure unless it answers 200 (or the redirect a form sends on success); a form
shown again with its errors is a failure, and a write is counted only once it succeeded.
"""

import base64
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import time
from collections import Counter, defaultdict
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import quote, urlencode

import gevent
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

CONFIG = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text())
THINK = float(os.environ.get("LOAD_THINK", "1"))
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

rng = random.Random()  # noqa: S311 - which page a person opens next, not secrets
# How often, in a round of the day, staff and students write.
QUESTIONNAIRE, REFERRAL, NOTE, MESSAGE = 0.5, 0.2, 0.3, 0.3

# What the run saw: every request's end and time (ms) by kind, failures, successful writes.
SAMPLES: dict[str, list[tuple[float, float]]] = defaultdict(list)
FAILURES: Counter = Counter()
EXAMPLES: dict[str, list[str]] = defaultdict(list)
WRITES: Counter = Counter()
SIGNED_IN: list[float] = []
RUN: dict = {"started_at": time.time(), "users": 0}
_next_account = {"staff": itertools.count(), "student": itertools.count()}
_next_address = itertools.count(1)


@events.request.add_listener
def _record(name, response_time, exception=None, **kwargs):
    SAMPLES[name].append((time.time(), response_time))
    if exception is not None:
        FAILURES[name] += 1
        if len(EXAMPLES[name]) < 3:
            EXAMPLES[name].append(str(exception)[:300])


@events.test_start.add_listener
def _started(environment, **kwargs):
    RUN["started_at"] = time.time()
    RUN["users"] = environment.parsed_options.num_users if environment.parsed_options else 0


@events.test_stopping.add_listener
def _stopping(**kwargs):
    RUN.setdefault("stopping_at", time.time())  # the run's time is up: users finish their page


@events.test_stop.add_listener
def _write_results(environment=None, **kwargs):
    """What the scenario did, for load.py: written when the test stops (and again on quitting,
    after the last user has stopped)."""
    path = os.environ.get("LOAD_RESULTS")
    if not path:
        return
    users = RUN["users"]
    Path(path).write_text(json.dumps({
        "started_at": RUN["started_at"],
        "stopped_at": RUN.get("stopping_at", time.time()),
        "users": users,
        "signed_in": len(SIGNED_IN),
        "all_signed_in_at": max(SIGNED_IN) if users and len(SIGNED_IN) >= users else None,
        "writes": dict(WRITES),
        "failures": dict(FAILURES),
        "failure_examples": dict(EXAMPLES),
        "samples": {name: [[round(t, 3), round(ms, 2)] for t, ms in rows]
                    for name, rows in SAMPLES.items()},
    }))  # fmt: skip


events.quitting.add_listener(_write_results)


def totp(secret: str, at: float) -> str:
    """RFC 6238: HMAC-SHA1 over the 30 s step, six digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


class _BehindTheProxy(DefaultCookiePolicy):
    """The browser's side of the TLS proxy is HTTPS: it sends the Secure cookies (the
    session's and CSRF's) that the app, seeing X-Forwarded-Proto, sets."""

    def return_ok_secure(self, cookie, request):
        return True


def proxied(n: int) -> dict:
    """The headers the TLS proxy adds to the requests of the `n`th person: their own
    address, and that they came over HTTPS."""
    return {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            "X-Forwarded-Proto": "https"}  # fmt: skip


class _Forms(HTMLParser):
    """The forms of a page: action, method, and the values a browser would send unchanged
    (inputs, checked boxes, selected options, text areas), with every option offered."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "fields": {}, "options": defaultdict(list)}  # fmt: skip
            self.forms.append(self._form)
        elif self._form is None or (not a.get("name") and tag != "option"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("radio", "checkbox"):
                self._form["options"][a["name"]].append(a.get("value", "on"))
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = {"name": a["name"], "value": None}
        elif tag == "option" and self._select is not None:
            self._form["options"][self._select["name"]].append(a.get("value", ""))
            if "selected" in a or self._select["value"] is None:
                self._select["value"] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = [a["name"], []]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form["fields"][self._select["name"]] = self._select["value"] or ""
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"][self._textarea[0]] = "".join(self._textarea[1]).lstrip("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)


def post_form(html: str, field: str) -> dict | None:
    """The page's POST form that has `field`."""
    for form in _Forms(html).forms:
        if form["method"] == "post" and (field in form["fields"] or field in form["options"]):
            return form
    return None


def _errors(html: str | None) -> str:
    """What a form shown again says is wrong, for the failure message."""
    found = re.findall(r'class="nhsuk-error-(?:message|summary__list)"[^>]*>(.*?)</', html or "",
                       re.S)  # fmt: skip
    text = " ".join(re.sub(r"<[^>]+>|\s+", " ", f).strip() for f in found)
    return text[:200] or "no error shown"


class JoinedUpUser(FastHttpUser):
    """A person at a browser: signs in through the real forms; each request a page kind."""

    abstract = True
    kind = ""

    def on_start(self):
        self.headers = proxied(next(_next_address))
        self.client.cookiejar.set_policy(_BehindTheProxy())
        # A browser says where a form was sent from: the CSRF check of an HTTPS request.
        self.origin = {"Origin": re.sub(r"^http:", "https:", self.host.rstrip("/"))}
        accounts = CONFIG["staff" if self.kind == "staff" else "students"]
        self.account = accounts[next(_next_account[self.kind]) % len(accounts)]

    def page(self, url: str, name: str) -> str | None:
        """GET a page that must answer 200; its HTML, or None when it failed."""
        with self.client.get(url, name=name, headers=self.headers, allow_redirects=False,
                             catch_response=True) as response:  # fmt: skip
            if response.status_code == 200:
                response.success()
                return response.text
            response.failure(f"{response.status_code} {self._location(response)}".strip())
            return None

    def redirect(self, url: str, name: str, to: str) -> str | None:
        """GET a URL that must redirect to a path matching `to`; where it leads."""
        with self.client.get(url, name=name, headers=self.headers, allow_redirects=False,
                             catch_response=True) as response:  # fmt: skip
            location = self._location(response)
            if response.status_code in (301, 302, 303) and re.match(to, location):
                response.success()
                return location
            response.failure(f"{response.status_code} {location} (expected {to})")
            return None

    def submit(self, url: str, fields: dict, name: str, to: str) -> str | None:
        """POST a form that must redirect to a path matching `to` (as Django's forms do on
        success); a form shown again is a failure that says what it found wrong."""
        with self.client.post(url, data=urlencode(fields, doseq=True), name=name,
                              headers=self.headers | self.origin | FORM, allow_redirects=False,
                              catch_response=True) as response:  # fmt: skip
            location = self._location(response)
            if response.status_code in (302, 303) and re.match(to, location):
                response.success()
                return location
            if response.status_code in (200, 400):
                response.failure(f"form shown again ({response.status_code}): "
                                 f"{_errors(response.text)}")  # fmt: skip
            else:
                response.failure(f"{response.status_code} {location} (expected {to})")
            return None

    def wrote(self, kind: str, location: str | None, name: str) -> None:
        """A write the form redirected after: counted, and the page it led to read."""
        if location:
            WRITES[kind] += 1
            self.page(location, name)
            self.wait()

    @staticmethod
    def _location(response) -> str:
        location = (response.headers or {}).get("Location", "") or ""
        return re.sub(r"^https?://[^/]+", "", location)

    def sign_in(self, email: str, *, second_factor: bool, home: str) -> str | None:
        """Sign in through allauth's forms (with the TOTP step for staff), then land where
        the home page sends this person; that page's HTML, or None (the user then stops)."""
        html = self.page("/accounts/login/", "sign-in")
        form = html and post_form(html, "login")
        if not form:
            return None
        fields = form["fields"] | {"login": email, "password": CONFIG["password"]}
        where = self.submit("/accounts/login/", fields, "sign-in: password",
                            r"/accounts/2fa/authenticate/" if second_factor else r"/$")  # fmt: skip
        if where and second_factor:
            html = self.page(where, "sign-in: second factor")
            form = html and post_form(html, "code")
            if not form:
                return None
            if 30 - time.time() % 30 < 3:
                # The code on the phone is about to change: a person waits for the next.
                gevent.sleep(30 - time.time() % 30 + 0.5)
            code = totp(CONFIG["totp_secret"], time.time())
            where = self.submit(where, form["fields"] | {"code": code}, "sign-in: code", r"/$")
        landing = where and self.redirect(where, "home", home)
        html = landing and self.page(landing, "my day" if self.kind == "staff" else "portal")
        if html:
            SIGNED_IN.append(time.time())
        return html


class Staff(JoinedUpUser):
    """A practitioner's day: My day, the caseload, a student's record and contact log,
    questionnaires, referrals, notes, tasks, risk flags and messages."""

    weight = 6
    kind = "staff"
    wait_time = between(5 * THINK, 15 * THINK)

    def on_start(self):
        super().on_start()
        self.my_day = self.sign_in(self.account["email"], second_factor=True,
                                   home=r"/students/my-day/$")  # fmt: skip
        if self.my_day is None:
            raise StopUser()

    @task
    def round_of_the_day(self):
        caseload = re.findall(rf'href="/students/({UUID})/"', self.my_day or "")
        self.wait()
        listed = self.page("/students/", "caseload") or ""
        self.wait()
        family = rng.choice(CONFIG["family_names"])
        self.page(f"/students/?q={quote(family)}", "caseload search")
        self.wait()
        students = caseload or re.findall(rf'href="/students/({UUID})/"', listed)
        if students:
            self.student(rng.choice(students))
        for url, name in [("/measures/", "questionnaire worklist"), ("/tasks/", "tasks"),
                          ("/risk/flags/", "risk flags"), ("/messages/", "messages"),
                          ("/referrals/waiting/", "waiting list"),
                          ("/referrals/", "referrals made")]:  # fmt: skip
            if rng.random() < 0.5:
                self.page(url, name)
                self.wait()
        self.my_day = self.page("/students/my-day/", "my day")

    def student(self, student: str) -> None:
        """One student of the caseload: record, contact log, questionnaires, and sometimes a
        note, a questionnaire recorded or a referral."""
        if self.page(f"/students/{student}/", "record") is None:
            return
        self.wait()
        self.page(f"/students/{student}/contacts/", "contact log")
        self.wait()
        if rng.random() < NOTE:
            self.write_note(student)
        outcomes = self.page(f"/students/{student}/measures/", "questionnaires")
        self.wait()
        if outcomes and rng.random() < QUESTIONNAIRE:
            self.record_questionnaire(student, outcomes)
        if rng.random() < REFERRAL:
            self.refer(student)

    def write_note(self, student: str) -> None:
        html = self.page(f"/students/{student}/notes/new/", "note form")
        form = html and post_form(html, "contact_kind")
        if not form:
            return
        self.wait()  # writing it
        kinds = [k for k in form["options"]["contact_kind"] if k]
        fields = form["fields"] | {
            "contact_kind": "session" if "session" in kinds else rng.choice(kinds),
            "body": "Load benchmark session note: reviewed the week, agreed next steps.",
            "action": "sign",
        }
        note = self.submit(f"/students/{student}/notes/new/", fields, "note: sign",
                           rf"/students/notes/{UUID}/$")  # fmt: skip
        self.wrote("note", note, "note")

    def record_questionnaire(self, student: str, outcomes: str) -> None:
        """A questionnaire due now (or, where none is routine, a PHQ-9), every item answered
        and the risk items 0, so that no risk flag is raised."""
        due = re.findall(rf'margin-bottom-2" href="(/episodes/{UUID}/measures/[^/"]+/)"', outcomes)
        url = rng.choice(due) if due else None
        if url is None:
            other = re.findall(rf'href="(/episodes/{UUID}/measures/PHQ-9/)"', outcomes)
            url = other[0] if other else None
        if url is None:
            return
        html = self.page(url, "questionnaire form")
        form = html and post_form(html, "session_number")
        if not form:
            return
        self.wait()  # asking the questions
        code = url.rstrip("/").rsplit("/", 1)[1]
        risk = set(CONFIG["risk_items"].get(code, []))
        fields = dict(form["fields"])
        for name, values in form["options"].items():
            if re.fullmatch(r"item_\d+", name):
                fields[name] = values[0] if int(name[5:]) in risk else rng.choice(values)
        saved = self.submit(url, fields, "questionnaire: save", rf"/students/{student}/measures/$")
        self.wrote("questionnaire", saved, "questionnaires")

    def refer(self, student: str) -> None:
        html = self.page(f"/students/{student}/referrals/new/", "referral form")
        form = html and post_form(html, "to_service")
        if not form:
            return
        offered = set(form["options"]["to_service"])
        choices = [str(pk) for pk in self.account["refer_to"] if str(pk) in offered]
        if not choices:
            return
        self.wait()  # writing why
        fields = form["fields"] | {
            "to_service": rng.choice(choices),
            "reason": "Load benchmark referral: would benefit from this service's support.",
        }
        fields.pop("carry_assessment", None)
        referral = self.submit(f"/students/{student}/referrals/new/", fields, "referral: send",
                               rf"/referrals/{UUID}/$")  # fmt: skip
        self.wrote("referral", referral, "referral")


class Student(JoinedUpUser):
    """A student on the portal: their record, messages (sometimes writing one),
    questionnaires, consents and appointments."""

    weight = 3
    kind = "student"
    wait_time = between(10 * THINK, 30 * THINK)

    def on_start(self):
        super().on_start()
        if self.sign_in(self.account, second_factor=False, home=r"/me/$") is None:
            raise StopUser()

    @task
    def visit(self):
        self.wait()
        messages = self.page("/me/messages/", "portal: messages")
        self.wait()
        threads = re.findall(rf'href="(/me/messages/{UUID}/)"', messages or "")
        if threads:
            thread = rng.choice(threads)
            html = self.page(thread, "portal: message thread")
            self.wait()
            form = html and post_form(html, "body")
            if form and rng.random() < MESSAGE:
                fields = form["fields"] | {"body": "Could we move next week's session to the "
                                                   "afternoon? I have a lecture then."}  # fmt: skip
                sent = self.submit(thread, fields, "portal: message send", rf"{thread}$")
                if sent:
                    WRITES["message"] += 1
                    self.page(sent, "portal: message thread")
                    self.wait()
        for url, name in [("/me/scores/", "portal: questionnaires"),
                          ("/me/consents/", "portal: consents"),
                          ("/me/appointments/", "portal: appointments")]:  # fmt: skip
            if rng.random() < 0.6:
                self.page(url, name)
                self.wait()
        self.page("/me/", "portal")


class PartnerSystem(FastHttpUser):
    """A partner system acting for one service: looks students up by identifier and reads
    their questionnaires as observations and responses, sometimes their whole record."""

    weight = 1
    wait_time = between(5 * THINK, 15 * THINK)

    def on_start(self):
        self.headers = proxied(next(_next_address))
        self.token, self.expires = "", 0.0
        if self.fhir("/fhir/metadata", "fhir: metadata", bearer=False) is None:
            raise StopUser()
        if not self.get_token():
            raise StopUser()
        SIGNED_IN.append(time.time())

    def get_token(self) -> bool:
        basic = base64.b64encode(
            f"{os.environ['LOAD_FHIR_CLIENT_ID']}:{os.environ['LOAD_FHIR_CLIENT_SECRET']}".encode()
        ).decode()
        body = urlencode({"grant_type": "client_credentials", "scope": "system/*.read"})
        with self.client.post("/o/token/", data=body, name="fhir: token",
                              headers=self.headers | FORM | {"Authorization": f"Basic {basic}"},
                              catch_response=True) as response:  # fmt: skip
            try:
                answer = json.loads(response.text or "")
                self.token = answer["access_token"]
                self.expires = time.time() + float(answer.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                response.failure(f"{response.status_code} no token: {(response.text or '')[:200]}")
                return False
            response.success()
            WRITES["token"] += 1
            return True

    def fhir(self, url: str, name: str, *, bearer: bool = True, find: bool = False) -> dict | None:
        """GET a FHIR resource or search (a Bundle that must `find` something, if asked)."""
        headers = self.headers | {"Accept": "application/fhir+json"}
        if bearer:
            if time.time() > self.expires - 60 and not self.get_token():
                return None
            headers["Authorization"] = f"Bearer {self.token}"
        with self.client.get(url, name=name, headers=headers, catch_response=True) as response:
            try:
                body = json.loads(response.text or "")
            except ValueError:
                body = None
            if response.status_code != 200 or not isinstance(body, dict):
                response.failure(f"{response.status_code} {(response.text or '')[:200]}")
                return None
            if find and not body.get("entry"):
                response.failure("found nothing: a student in the service's care, not found")
                return None
            response.success()
            return body

    @task
    def look_up(self):
        identifier = rng.choice(CONFIG["partner"]["identifiers"])
        found = self.fhir(f"/fhir/Patient?identifier={quote(identifier)}", "fhir: Patient search",
                          find=True)  # fmt: skip
        patients = [e["resource"]["id"] for e in (found or {}).get("entry", [])
                    if e.get("resource", {}).get("resourceType") == "Patient"]  # fmt: skip
        if not patients:
            return
        patient = patients[0]
        self.wait()
        self.fhir(f"/fhir/Observation?patient={patient}&_count=50", "fhir: Observation search")
        self.wait()
        self.fhir(f"/fhir/QuestionnaireResponse?patient={patient}",
                  "fhir: QuestionnaireResponse search")  # fmt: skip
        if rng.random() < 0.2:
            self.wait()
            self.fhir(f"/fhir/Patient/{patient}/$everything", "fhir: $everything")
