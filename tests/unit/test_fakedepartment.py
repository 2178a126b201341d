"""The fake department: what it accepts and refuses, its failures on demand, the status changes
it posts back (checked by a small aiohttp receiver that plays Seva), its page and control API."""
import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from fakedepartment import FakeDepartment, server
from seva import signing

SECRET = "shared-department-secret"
ROOT = Path(__file__).resolve().parents[2]


def application(reference="OD-BC-2024-000001", **changes):
    body = {"reference": reference, "service_id": "birth_certificate", "submitted_at": "2024-05-02T10:15:00+05:30",
            "language": "or", "answers": {"child_name": "ସୁମନ", "place_of_birth": "Cuttack"},
            "documents": [{"name": "hospital_slip", "url": "https://example.invalid/d/1"}]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def http(url, data=None, headers=None, method=None, timeout=5):
    request = urllib.request.Request(url, data, headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def submit(fake, body, *, key="same", secret=SECRET, signed=True, raw=None, timeout=5):
    """POST an application the way Seva must: signed raw bytes, Idempotency-Key = reference."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if key == "same":
        key = body.get("reference") if isinstance(body, dict) else None
    if key is not None:
        headers["Idempotency-Key"] = key
    if signed:
        headers[signing.HEADER] = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    status, response_headers, payload = http(fake.base_url + "/applications", data, headers, timeout=timeout)
    return status, response_headers, json.loads(payload)


class Seva:
    """Plays Seva's /webhooks/department/status: keeps what arrives, answers like the contract."""

    def __init__(self):
        self.received = []  # (X-Seva-Signature or None, raw body)
        self.known = {"OD-BC-2024-000001"}
        self._loop = asyncio.new_event_loop()
        self._runner = None
        self.port = None

    async def _status(self, request):
        raw = await request.read()
        header = request.headers.get(signing.HEADER)
        self.received.append((header, raw))
        if not signing.verify(raw, header, SECRET):
            return web.Response(status=401, text="bad signature")
        if json.loads(raw)["reference"] not in self.known:
            return web.Response(status=404, text="unknown reference")
        return web.Response(text="ok")

    def start(self):
        async def setup():
            app = web.Application()
            app.router.add_post("/webhooks/department/status", self._status)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]

        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(setup(), self._loop).result(5)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/webhooks/department/status"

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)


@pytest.fixture(scope="module")
def seva():
    receiver = Seva().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def fake(seva):
    seva.received.clear()
    department = FakeDepartment(SECRET, seva_status_url=seva.url).start()
    yield department
    department.stop()


def statuses(fake):
    return [attempt[0] for attempt in fake.attempts]


# ------------------------------------------------------------------ applications in
def test_unsigned_or_wrongly_signed_applications_are_refused_with_401(fake):
    body = application()
    assert submit(fake, body, signed=False)[0] == 401
    assert submit(fake, body, secret="not-the-secret")[0] == 401
    # signed, but the bytes were changed afterwards
    data = json.dumps(body).encode()
    header = signing.sign(data, SECRET)
    status, _, _ = http(fake.base_url + "/applications", data.replace(b"Cuttack", b"Puri"),
                        {"Idempotency-Key": body["reference"], signing.HEADER: header})
    assert status == 401
    assert statuses(fake) == [401, 401, 401]
    assert fake.deliveries == {}


def test_a_signed_application_is_accepted_and_recorded(fake):
    body = application()
    status, _, answer = submit(fake, body)
    assert status == 201
    assert answer["reference"] == body["reference"]
    assert answer["department_reference"] == "DEPT-000001"
    assert answer["received_at"].endswith("+05:30")
    assert fake.deliveries == {body["reference"]: body}
    (code, key, recorded, at), = fake.attempts
    assert (code, key, recorded) == (201, body["reference"], body) and at <= time.monotonic()
    assert fake.wait_for_delivery(body["reference"], 1) == body


def test_a_repeat_of_an_accepted_key_is_a_200_replay_not_a_second_delivery(fake):
    first = application()
    assert submit(fake, first)[0] == 201
    status, _, answer = submit(fake, first)
    assert status == 200 and answer["department_reference"] == "DEPT-000001"
    assert fake.replays == [first["reference"]]
    assert list(fake.deliveries) == [first["reference"]]
    status, _, answer = submit(fake, application("OD-BC-2024-000002"))
    assert status == 201 and answer["department_reference"] == "DEPT-000002"
    assert statuses(fake) == [201, 200, 201]


@pytest.mark.parametrize("body, key, why", [
    (None, "OD-1", "not JSON"),
    ([1, 2], "OD-1", "JSON object"),
    (application(service_id=...), "same", "service_id is required"),
    (application(answers=...), "same", "answers is required"),
    (application(documents=...), "same", "documents is required"),
    (application(submitted_at=...), "same", "submitted_at is required"),
    (application(submitted_at="2024-05-02T10:15:00"), "same", "offset"),
    (application(language="fr"), "same", "language"),
    (application(answers=["a"]), "same", "answers must be an object"),
    (application(documents={}), "same", "documents must be a list"),
    (application(reference=""), "", "reference"),
    (application(), None, "Idempotency-Key is required"),
    (application(), "OD-BC-2024-999999", "Idempotency-Key must be the application's reference"),
])
def test_incomplete_applications_are_refused_with_400_saying_why(fake, body, key, why):
    raw = b"{not json" if body is None else None
    status, _, answer = submit(fake, body, key=key, raw=raw)
    assert status == 400 and why in answer["error"]
    assert fake.deliveries == {} and statuses(fake) == [400]


def test_submitted_at_in_utc_with_z_is_accepted(fake):
    assert submit(fake, application(submitted_at="2024-05-02T04:45:00Z"))[0] == 201


# ------------------------------------------------------------------ failures on demand
def test_fail_500_twice_then_accepted(fake):
    body = application()
    fake.fail("500", 2)
    assert [submit(fake, body)[0] for _ in range(3)] == [500, 500, 201]
    assert statuses(fake) == [500, 500, 201]
    assert list(fake.deliveries) == [body["reference"]] and fake.replays == []


def test_failures_are_used_in_the_order_they_were_queued(fake):
    fake.fail("503")
    fake.fail("429")
    body = application()
    assert submit(fake, body)[0] == 503
    status, headers, answer = submit(fake, body)
    assert status == 429 and headers["Retry-After"] == "1"
    assert submit(fake, body)[0] == 201


def test_a_400_refusal_is_returned_once_and_recorded(fake):
    body = application()
    fake.fail("400")
    status, _, answer = submit(fake, body)
    assert status == 400 and answer["error"]
    assert fake.deliveries == {}
    assert fake.attempts[0][:3] == (400, body["reference"], body)
    assert submit(fake, body)[0] == 201


def test_hang_holds_the_answer_past_the_client_timeout_and_accepts_nothing(fake):
    body = application()
    fake.fail("hang", delay=10)
    started = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError, urllib.error.URLError)):
        submit(fake, body, timeout=0.2)
    assert fake.attempts[0][:2] == (503, body["reference"]) and fake.deliveries == {}
    assert submit(fake, body)[0] == 201  # answered while the hung one still waits
    fake.stop()  # does not wait out the 10 s
    assert time.monotonic() - started < 1.5


def test_stop_sends_the_held_answers_at_once(fake):
    fake.fail("hang", delay=10)
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(submit(fake, application(), timeout=5)[0]))
    waiting.start()
    fake.wait_until(lambda: fake.attempts, 2, "hanging attempt")
    started = time.monotonic()
    fake.stop()
    waiting.join(5)
    assert answers == [503] and time.monotonic() - started < 1.5


def test_lost_accepts_but_the_answer_never_arrives_so_the_retry_is_a_replay(fake):
    body = application()
    fake.fail("lost", delay=10)
    with pytest.raises((socket.timeout, TimeoutError, urllib.error.URLError)):
        submit(fake, body, timeout=0.2)
    assert list(fake.deliveries) == [body["reference"]]
    assert submit(fake, body)[0] == 200 and fake.replays == [body["reference"]]


def test_fail_for_is_an_outage_then_it_accepts_again(fake):
    body = application()
    fake.fail_for("503", 0.2)
    assert [submit(fake, body)[0] for _ in range(3)] == [503, 503, 503]
    time.sleep(0.25)
    assert submit(fake, body)[0] == 201


def test_unknown_failure_modes_are_refused(fake):
    with pytest.raises(ValueError):
        fake.fail("502")


def test_wait_until_wakes_on_a_record_and_names_what_it_waited_for(fake):
    threading.Timer(0.1, lambda: submit(fake, application())).start()
    started = time.monotonic()
    assert fake.wait_until(lambda: fake.deliveries, 5, "a delivery")
    assert time.monotonic() - started < 2
    with pytest.raises(TimeoutError, match="a second delivery"):
        fake.wait_until(lambda: len(fake.deliveries) > 1, 0.1, "a second delivery")


# ------------------------------------------------------------------ status back to Seva
def test_post_status_is_signed_so_seva_verifies_it(fake, seva):
    status, text = fake.post_status("OD-BC-2024-000001", "documents_needed", note="ଫଟୋ ଅସ୍ପଷ୍ଟ",
                                    documents_requested=["Aadhaar card", "Hospital slip"])
    assert (status, text) == (200, "ok")
    (header, raw), = seva.received
    assert signing.verify(raw, header, SECRET)
    assert header == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    payload = json.loads(raw)
    assert payload["reference"] == "OD-BC-2024-000001" and payload["status"] == "documents_needed"
    assert payload["documents_requested"] == ["Aadhaar card", "Hospital slip"]
    assert payload["note"] == "ଫଟୋ ଅସ୍ପଷ୍ଟ" and "ଫଟୋ".encode() in raw  # UTF-8 as sent, not \u escapes
    assert payload["changed_at"].endswith("+05:30") and "certificate_url" not in payload
    assert fake.status_posts[-1].http_status == 200


def test_post_status_unsigned_or_with_another_secret_is_refused_by_seva(fake, seva):
    assert fake.post_status("OD-BC-2024-000001", "approved", signed=False)[0] == 401
    assert seva.received[-1][0] is None
    assert fake.post_status("OD-BC-2024-000001", "approved", secret="wrong")[0] == 401
    assert not signing.verify(seva.received[-1][1], seva.received[-1][0], SECRET)
    assert fake.post_status("OD-UNKNOWN", "approved")[0] == 404


def test_replay_last_sends_the_same_bytes_and_signature(fake, seva, monkeypatch):
    clock = iter(f"2024-05-09T11:00:0{n}+05:30" for n in range(10))
    monkeypatch.setattr(server, "now_ist", lambda: next(clock))  # every new body another changed_at
    fake.post_status("OD-BC-2024-000001", "approved", certificate_url="https://example.invalid/c/1")
    assert fake.replay_last() == (200, "ok")
    fake.post_status("OD-BC-2024-000001", "approved", certificate_url="https://example.invalid/c/1")
    first, replayed, rebuilt = seva.received
    assert replayed == first and replayed[1] == json.dumps(json.loads(first[1]), ensure_ascii=False,
                                                            separators=(",", ":")).encode()
    assert rebuilt != first  # so a replay that rebuilt the body would have been caught
    assert json.loads(first[1])["certificate_url"] == "https://example.invalid/c/1"
    assert fake.last_status_body == rebuilt[1]


def test_post_status_needs_a_target_and_reports_no_answer_as_0(seva):
    nowhere = FakeDepartment(SECRET)
    with pytest.raises(ValueError):
        nowhere.post_status("OD-1", "received")
    with pytest.raises(RuntimeError):
        nowhere.replay_last()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connection refused
        status, text = nowhere.post_status("OD-1", "received", url=f"http://127.0.0.1:{sock.getsockname()[1]}/x")
    assert status == 0 and text


# ------------------------------------------------------------------ operator page and control API
def test_page_lists_deliveries_escaped_and_its_forms_post_to_seva(fake, seva):
    body = application(answers={"name": "<script>alert(1)</script>"}, service_id="birth_<b>certificate")
    assert submit(fake, body)[0] == 201
    status, headers, page = http(fake.base_url + "/")
    html = page.decode()
    assert status == 200 and "script-src" not in headers["Content-Security-Policy"]  # default-src 'none'
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert body["reference"] in html and "DEPT-000001" in html and "Odia" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "birth_&lt;b&gt;certificate" in html
    for status_name in ("received", "in_progress", "documents_needed", "approved", "rejected"):
        assert f'name="status" value="{status_name}"' in html
    assert f'name="token" value="{fake.form_token}"' in html

    form = {"token": fake.form_token, "reference": body["reference"], "status": "documents_needed",
            "documents": "Aadhaar card\n\n Ration card \n"}
    status, _, _ = http(fake.base_url + "/_operator/status", urllib.parse.urlencode(form).encode())
    assert status == 200  # followed the 303 back to the page
    (header, raw), = seva.received
    assert signing.verify(raw, header, SECRET)
    assert json.loads(raw)["documents_requested"] == ["Aadhaar card", "Ration card"]
    assert "documents_needed" in http(fake.base_url + "/")[2].decode()  # the page shows what was sent


def test_page_forms_without_the_token_and_other_host_names_are_forbidden(fake, seva):
    assert submit(fake, application())[0] == 201
    form = {"reference": "OD-BC-2024-000001", "status": "approved", "token": "guess"}
    assert http(fake.base_url + "/_operator/status", urllib.parse.urlencode(form).encode())[0] == 403
    assert http(fake.base_url + "/", headers={"Host": "attacker.example"})[0] == 403
    assert seva.received == []


def test_control_endpoints_drive_it_from_another_process(fake, seva):
    control = {"Content-Type": "application/json"}
    assert http(fake.base_url + "/_control/fail", json.dumps({"mode": "500", "count": 1}).encode(), control)[0] == 200
    # what another site's page could send without a preflight: JSON in a text/plain body
    assert http(fake.base_url + "/_control/fail", json.dumps({"mode": "503"}).encode(),
                {"Content-Type": "text/plain"})[0] == 400
    assert http(fake.base_url + "/_control/fail", json.dumps({"mode": "502"}).encode(), control)[0] == 400
    body = application()
    assert [submit(fake, body)[0] for _ in range(2)] == [500, 201]
    request = {"reference": body["reference"], "status": "rejected", "note": "Not resident"}
    status, _, answer = http(fake.base_url + "/_control/status", json.dumps(request).encode(), control)
    assert status == 200 and json.loads(answer) == {"status": 200, "body": "ok"}
    assert json.loads(seva.received[-1][1])["note"] == "Not resident"
    state = json.loads(http(fake.base_url + "/_control/state")[2])
    assert state["deliveries"] == {body["reference"]: body}
    assert [a["status"] for a in state["attempts"]] == [500, 201]


def test_python_m_fakedepartment_prints_listening_and_serves(seva):
    env = {**os.environ, "DEPARTMENT_API_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "fakedepartment", "--port", "0", "--seva-status-url", seva.url],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "listening" in line
        base_url = line.split("listening on ")[1].split()[0]
        fake = type("Remote", (), {"base_url": base_url})()
        assert submit(fake, application())[0] == 201
    finally:
        process.terminate()
        assert process.wait(5) == 0
