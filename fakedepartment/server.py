"""A fake department service: takes the applications Seva submits the way the contract says
(signed, idempotent by reference), records everything, fails on demand, and posts status
changes back to Seva signed, from code or from an operator page.

Run standalone: ``python -m fakedepartment --port 8090 --secret S --seva-status-url URL``.
Tests start it in-process (``FakeDepartment(secret).start()`` runs it on its own thread and
loop) and point DEPARTMENT_API_URL at ``base_url``.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import itertools
import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from aiohttp import web

from fakedepartment import page
from seva import signing

T = TypeVar("T")

IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
STATUSES = ("received", "in_progress", "documents_needed", "approved", "rejected")
LANGUAGES = ("en", "hi", "or")
FAILURE_MODES = ("500", "503", "429", "400", "hang", "lost")
HANG_DELAY = 60.0  # longer than any client should wait; stop() cuts it short


def now_ist() -> str:
    """Now, ISO 8601 with the +05:30 offset, to the second (how the department writes times)."""
    return dt.datetime.now(IST).replace(microsecond=0).isoformat()


def _has_offset(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value  # 3.10 reads no "Z"
    try:
        return dt.datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def validate_application(body: Any) -> Optional[str]:
    """Why the department refuses this application body (400), or None when it is complete."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for name in ("reference", "service_id", "submitted_at", "language", "answers", "documents"):
        if name not in body:
            return f"{name} is required"
    for name in ("reference", "service_id"):
        if not isinstance(body[name], str) or not body[name].strip():
            return f"{name} must be a non-empty string"
    if not _has_offset(body["submitted_at"]):
        return "submitted_at must be ISO 8601 with a UTC offset"
    if body["language"] not in LANGUAGES:
        return "language must be one of " + ", ".join(LANGUAGES)
    if not isinstance(body["answers"], dict):
        return "answers must be an object"
    if not isinstance(body["documents"], list):
        return "documents must be a list"
    return None


def status_body(reference: str, status: str, *, note: Optional[str] = None, certificate_url: Optional[str] = None,
                documents_requested: Optional[List[str]] = None, changed_at: Optional[str] = None) -> bytes:
    """The JSON bytes of a status change; optional fields only when given. UTF-8, not
    ``\\u`` escapes: Odia and Hindi notes arrive as the department would send them."""
    payload: Dict[str, Any] = {"reference": reference, "status": status}
    if note is not None:
        payload["note"] = note
    if certificate_url is not None:
        payload["certificate_url"] = certificate_url
    if documents_requested is not None:
        payload["documents_requested"] = list(documents_requested)
    payload["changed_at"] = changed_at or now_ist()
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Failure:
    """``count`` attempts fail in ``mode``, or every attempt until ``until`` (time.monotonic()).

    "500", "503": that status, nothing accepted. "429": with ``Retry-After: 1``. "400": a
    permanent refusal with a JSON body saying why. "hang": nothing accepted, the answer (a
    503) held for ``delay`` seconds, longer than the client waits. "lost": accepted and
    recorded, then the answer (the 201) held for ``delay`` seconds: the department has the
    application but the client never hears so, and its retry must be a replay."""
    mode: str
    count: int
    delay: float = HANG_DELAY
    until: Optional[float] = None


@dataclass
class StatusPost:
    """One status change posted to Seva and how Seva answered (0: no answer, see ``text``)."""
    reference: str
    status: str
    http_status: int
    text: str
    at: float  # time.monotonic()


Attempt = Tuple[int, Optional[str], Optional[Dict[str, Any]], float]


class FakeDepartment:
    """The fake server. Records are made on the server loop under one condition, and every
    record (an attempt, a delivery, a replay, a status posted) wakes ``wait_until``, so tests
    wait for evidence instead of sleeping.

    Records: ``attempts`` — every POST /applications as (HTTP status returned, Idempotency-Key
    or None, parsed body or None, time.monotonic()), a "hang" recorded on arrival with the 503
    it answers later; ``deliveries`` — reference → body of each accepted application (first
    body kept); ``replays`` — references whose accepted key came again; ``status_posts``."""

    def __init__(self, secret: str, seva_status_url: Optional[str] = None):
        self.secret = secret
        self.seva_status_url = seva_status_url
        self._changed = threading.Condition()  # notified whenever anything below is recorded
        self.attempts: List[Attempt] = []
        self.deliveries: Dict[str, Dict[str, Any]] = {}
        self.department_references: Dict[str, str] = {}
        self.received_at: Dict[str, str] = {}
        self.replays: List[str] = []
        self.status_posts: List[StatusPost] = []
        self.failures: List[Failure] = []
        self._numbers = itertools.count(1)
        self._last_status: Optional[Tuple[str, bytes, Dict[str, str]]] = None  # url, raw body, headers
        self.form_token = secrets.token_urlsafe(16)  # the operator page's forms carry it (no cross-site posts)
        self.port: Optional[int] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping: Optional[asyncio.Event] = None

    # ------------------------------------------------------------- control
    def fail(self, mode: str, count: int = 1, delay: float = HANG_DELAY) -> None:
        """The next ``count`` attempts fail in ``mode`` (see :class:`Failure`), after those already queued."""
        self._queue(Failure(_mode(mode), count, delay))

    def fail_for(self, mode: str, seconds: float, delay: float = HANG_DELAY) -> None:
        """Every attempt fails in ``mode`` for the next ``seconds`` (an outage), once the failures queued
        before it are used up."""
        self._queue(Failure(_mode(mode), 0, delay, until=time.monotonic() + seconds))

    def _queue(self, failure: Failure) -> None:
        with self._changed:
            self.failures.append(failure)

    def _next_failure(self) -> Optional[Failure]:
        with self._changed:
            now = time.monotonic()
            while self.failures:
                failure = self.failures[0]
                if failure.until is not None and now < failure.until:
                    return failure
                if failure.until is None and failure.count > 0:
                    failure.count -= 1
                    return failure
                self.failures.pop(0)
            return None

    def _record(self, update: Callable[[], None]) -> None:
        with self._changed:
            update()
            self._changed.notify_all()

    def _attempt(self, http_status: int, key: Optional[str], body: Optional[Dict[str, Any]]) -> None:
        self._record(lambda: self.attempts.append((http_status, key, body, time.monotonic())))

    def wait_until(self, condition: Callable[[], T], timeout: float, what: str = "the condition") -> T:
        """``condition()`` once it is truthy, re-checked whenever the fake records something;
        TimeoutError naming ``what`` if it is still falsy after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake department: no {what} within {timeout} s")
                self._changed.wait(left)

    def wait_for_delivery(self, reference: str, timeout: float) -> Dict[str, Any]:
        """The body of ``reference`` once the department has accepted it."""
        self.wait_until(lambda: reference in self.deliveries, timeout, f"delivery of {reference}")
        return self.deliveries[reference]

    def reset(self) -> None:
        with self._changed:
            self.attempts.clear()
            self.deliveries.clear()
            self.department_references.clear()
            self.received_at.clear()
            self.replays.clear()
            self.status_posts.clear()
            self.failures.clear()
            self._last_status = None

    @property
    def base_url(self) -> str:
        """DEPARTMENT_API_URL for the app: it posts to ``{base_url}/applications``."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------ applications in
    def app(self) -> web.Application:
        app = web.Application(client_max_size=5 * 1024 * 1024)
        app.router.add_post("/applications", self._applications)
        app.router.add_get("/", self._page)
        app.router.add_post("/_operator/status", self._operator_status)
        app.router.add_post("/_control/fail", self._control_fail)
        app.router.add_post("/_control/status", self._control_status)
        app.router.add_get("/_control/state", self._control_state)
        return app

    async def _applications(self, request: web.Request) -> web.Response:
        raw = await request.read()
        key = request.headers.get("Idempotency-Key")
        problem: Optional[str] = None
        try:
            parsed = json.loads(raw)
        except ValueError:  # UnicodeDecodeError too
            parsed, problem = None, "the body is not JSON"
        body = parsed if isinstance(parsed, dict) else None
        # A failing department answers before it looks at the request.
        failure = self._next_failure()
        if failure is not None and failure.mode != "lost":
            return await self._failed(failure, key, body)
        if not signing.verify(raw, request.headers.get(signing.HEADER), self.secret):
            return self._refuse(401, "X-Seva-Signature does not match the body", key, body)
        problem = problem or validate_application(parsed)
        if problem is None and not key:
            problem = "Idempotency-Key is required"
        if problem is None and body is not None and key != body["reference"]:
            problem = "Idempotency-Key must be the application's reference"
        if problem is not None:
            return self._refuse(400, problem, key, body)
        assert body is not None and key is not None
        with self._changed:
            if key in self.deliveries:
                http_status = 200
                self.replays.append(key)
            else:
                http_status = 201
                self.deliveries[key] = body
                self.department_references[key] = f"DEPT-{next(self._numbers):06d}"
                self.received_at[key] = now_ist()
            self.attempts.append((http_status, key, body, time.monotonic()))
            answer = {"reference": key, "department_reference": self.department_references[key],
                      "received_at": self.received_at[key]}
            self._changed.notify_all()
        if failure is not None:  # "lost": accepted, but the client stops waiting before it hears so
            await self._hold(failure.delay)
        return web.json_response(answer, status=http_status)

    def _refuse(self, http_status: int, why: str, key: Optional[str], body: Optional[Dict[str, Any]],
                headers: Optional[Dict[str, str]] = None) -> web.Response:
        self._attempt(http_status, key, body)
        return web.json_response({"error": why}, status=http_status, headers=headers)

    async def _failed(self, failure: Failure, key: Optional[str], body: Optional[Dict[str, Any]]) -> web.Response:
        if failure.mode == "429":
            return self._refuse(429, "too many requests", key, body, headers={"Retry-After": "1"})
        if failure.mode == "400":
            return self._refuse(400, "refused by the department (injected permanent failure)", key, body)
        if failure.mode == "hang":
            self._attempt(503, key, body)  # recorded now: the client may be gone when the answer goes
            await self._hold(failure.delay)
            return web.json_response({"error": "timed out inside the department"}, status=503)
        return self._refuse(int(failure.mode), "department unavailable (injected failure)", key, body)

    async def _hold(self, seconds: float) -> None:
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    # ---------------------------------------------------------- status out
    def post_status(self, reference: str, status: str, *, note: Optional[str] = None,
                    certificate_url: Optional[str] = None, documents_requested: Optional[List[str]] = None,
                    changed_at: Optional[str] = None, signed: bool = True, secret: Optional[str] = None,
                    url: Optional[str] = None) -> Tuple[int, str]:
        """POST a status change to Seva (``url`` or ``seva_status_url``), signed with the shared
        secret (``secret`` instead, to make a bad signature; ``signed=False``: no header).
        ``status`` is not checked, so a test can send one Seva must refuse.

        Returns (HTTP status, response text); (0, the error) when nothing answered."""
        target = url or self.seva_status_url
        if not target:
            raise ValueError("no seva_status_url to post the status to")
        body = status_body(reference, status, note=note, certificate_url=certificate_url,
                           documents_requested=documents_requested, changed_at=changed_at)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if signed:
            headers[signing.HEADER] = signing.sign(body, self.secret if secret is None else secret)
        with self._changed:
            self._last_status = (target, body, headers)
        answer = _post(target, body, headers)
        self._record(lambda: self.status_posts.append(StatusPost(reference, status, answer[0], answer[1],
                                                                 time.monotonic())))
        return answer

    def replay_last(self) -> Tuple[int, str]:
        """Send the last status change again: same URL, same headers, the same bytes."""
        with self._changed:
            last = self._last_status
        if last is None:
            raise RuntimeError("no status change has been posted yet")
        target, body, headers = last
        answer = _post(target, body, headers)
        payload = json.loads(body)
        self._record(lambda: self.status_posts.append(
            StatusPost(payload["reference"], payload["status"], answer[0], answer[1], time.monotonic())))
        return answer

    @property
    def last_status_body(self) -> Optional[bytes]:
        """The raw bytes of the last status change posted (what ``replay_last`` sends)."""
        last = self._last_status
        return last[1] if last else None

    # ------------------------------------------------- operator and control
    def _local(self, request: web.Request) -> bool:
        """The page and the control endpoints answer only to their own host names (a page
        elsewhere that rebinds a DNS name to 127.0.0.1 gets a 403, not the citizens' data)."""
        return request.host in {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    async def _page(self, request: web.Request) -> web.Response:
        if not self._local(request):
            return web.Response(status=403, text="forbidden")
        with self._changed:
            view = page.View(
                deliveries=[page.Delivery(reference, body, self.department_references[reference],
                                          self.received_at[reference]) for reference, body in self.deliveries.items()],
                posts=list(self.status_posts), replays=len(self.replays), attempts=len(self.attempts),
                seva_status_url=self.seva_status_url, form_token=self.form_token)
        return web.Response(text=page.render(view), content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": page.CSP, "X-Frame-Options": "DENY",
                                     "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})

    async def _operator_status(self, request: web.Request) -> web.Response:
        """A form of the page: post the change to Seva, then back to the page (which shows the answer)."""
        if not self._local(request):
            return web.Response(status=403, text="forbidden")
        form = await request.post()
        if not hmac.compare_digest(str(form.get("token", "")), self.form_token):
            return web.Response(status=403, text="stale or foreign form: reload the page")
        reference, status = str(form.get("reference", "")), str(form.get("status", ""))
        if reference not in self.deliveries or status not in STATUSES or not self.seva_status_url:
            return web.Response(status=400, text="unknown application or status, or no Seva URL")
        fields = page.status_fields(status, form)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.post_status(reference, status, **fields))
        raise web.HTTPSeeOther(location="/#" + page.anchor(reference))

    async def _control_json(self, request: web.Request) -> Optional[Dict[str, Any]]:
        # JSON only: a browser cannot send it cross-site without a preflight, which is not answered
        if not self._local(request) or request.content_type != "application/json":
            return None
        try:
            data = await request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def _control_fail(self, request: web.Request) -> web.Response:
        """``{"mode", "count"?: 1, "delay"?, "seconds"?}``: fail(mode, count), or fail_for(mode, seconds)."""
        data = await self._control_json(request)
        if data is None or data.get("mode") not in FAILURE_MODES:
            return web.json_response({"error": "JSON {mode, count} with mode one of " + " ".join(FAILURE_MODES)},
                                     status=400)
        delay = float(data.get("delay", HANG_DELAY))
        if "seconds" in data:
            self.fail_for(data["mode"], float(data["seconds"]), delay)
        else:
            self.fail(data["mode"], int(data.get("count", 1)), delay)
        return web.json_response({"ok": True})

    async def _control_status(self, request: web.Request) -> web.Response:
        """``{"reference", "status", "note"?, "certificate_url"?, "documents_requested"?, "changed_at"?,
        "signed"?, "secret"?, "url"?}``: post_status; answers ``{"status": Seva's HTTP status, "body": its text}``."""
        data = await self._control_json(request)
        names = {"note", "certificate_url", "documents_requested", "changed_at", "signed", "secret", "url"}
        if data is None or not isinstance(data.get("reference"), str) or not isinstance(data.get("status"), str) \
                or set(data) - names - {"reference", "status"}:
            return web.json_response({"error": "JSON {reference, status, ...} expected"}, status=400)
        options = {name: data[name] for name in names if name in data}
        try:
            code, text = await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.post_status(data["reference"], data["status"], **options))
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"status": code, "body": text})

    async def _control_state(self, request: web.Request) -> web.Response:
        """What was received, for a test in another process: deliveries, replays, attempts."""
        if not self._local(request):
            return web.Response(status=403, text="forbidden")
        with self._changed:
            state = {"deliveries": dict(self.deliveries), "department_references": dict(self.department_references),
                     "replays": list(self.replays),
                     "attempts": [{"status": s, "idempotency_key": k, "body": b} for s, k, b, _ in self.attempts]}
        return web.json_response(state)

    # -------------------------------------------------------------- server
    def start(self, port: int = 0) -> "FakeDepartment":
        """Run on a background thread with its own event loop; returns when it listens on 127.0.0.1.

        With the default ``port=0`` the kernel picks a free port as it binds the listening
        socket, and ``self.port`` is read back from that socket: nothing can take it in between."""
        ready = threading.Event()
        failure: List[BaseException] = []

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                self._stopping = asyncio.Event()
                runner = self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2)
                loop.run_until_complete(runner.setup())
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
                self.port = sock.getsockname()[1]
                loop.run_until_complete(web.SockSite(runner, sock).start())
            except BaseException as error:  # reported by start() on the caller's thread
                failure.append(error)
                return
            finally:
                ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-department")
        self._thread.start()
        if not ready.wait(30):
            raise TimeoutError("fake department did not start listening within 30 s")
        if failure:
            raise RuntimeError(f"fake department could not start on port {port}") from failure[0]
        return self

    def stop(self) -> None:
        """Stop listening; answers being held ("hang", "lost") go out at once."""
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or runner is None or thread is None:
            return

        async def shutdown() -> None:
            assert self._stopping is not None
            self._stopping.set()
            await runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._runner = self._thread = None

    def __enter__(self) -> "FakeDepartment":
        return self.start() if self._loop is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _mode(mode: str) -> str:
    if mode not in FAILURE_MODES:
        raise ValueError(f"unknown failure mode {mode!r}; one of {', '.join(FAILURE_MODES)}")
    return mode


def _post(url: str, body: bytes, headers: Dict[str, str], timeout: float = 10) -> Tuple[int, str]:
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except OSError as error:  # refused, reset, timed out: nothing answered
        return 0, f"{type(error).__name__}: {error}"
