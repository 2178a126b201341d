"""Serving the review page, and its two buttons (save an NLU example, save a test story).

Mounted by the chat page (``fakegraph/simulator.py``, which listens on 127.0.0.1 only) at
``/review/``, or run alone with ``python -m review serve``: on 127.0.0.1 unless a token is
configured (``REVIEW_TOKEN``), and then every request must carry it (``?token=`` on the
page's address, sent back by the page as ``X-Review-Token``). The page only names a
conversation (a hash of the number) and a message's position; the words are read from the
tracker store here, so a redacted answer never travels through the page. Nothing about a
request is logged: no access log, and errors go back to the page only.
"""
from __future__ import annotations

import asyncio
import hmac
import json
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from aiohttp import web

from review import edits
from review.conversations import FORMS, find_conversation, parse_conversation

MAX_BODY = 4096
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ReviewSite:
    def __init__(self, out_dir: Path, endpoints: Path, domain: Path, project: Path,
                 token: Optional[str] = None):
        self.out_dir = Path(out_dir)
        self.endpoints = Path(endpoints)
        self.domain = Path(domain)
        self.project = Path(project)
        self.token = token or None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/review", self._redirect)
        app.router.add_get("/review/", self._guarded(self._page))
        app.router.add_get("/review/reports/{path:.+}", self._guarded(self._report))
        app.router.add_post("/review/api/examples", self._guarded(self._save_example))
        app.router.add_post("/review/api/stories", self._guarded(self._save_story))

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        self.add_routes(app)
        return app

    # ------------------------------------------------------------------ access
    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.token:
                given = request.headers.get("X-Review-Token") or request.query.get("token") or ""
                if not hmac.compare_digest(given.encode(), self.token.encode()):
                    return web.json_response({"message": "a valid review token is needed"}, status=401)
            response = await handler(request)
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
            return response
        return guarded

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/review/" + (f"?{request.query_string}" if request.query_string else ""))

    async def _page(self, request: web.Request) -> web.StreamResponse:
        page = self.out_dir / "index.html"
        if not page.exists():
            return web.Response(status=404, content_type="text/plain",
                                text="No review page yet: run `make review`, then reload.")
        return web.FileResponse(page)

    async def _report(self, request: web.Request) -> web.StreamResponse:
        reports = (self.out_dir / "reports").resolve()
        path = (reports / request.match_info["path"]).resolve()
        if reports not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    # ------------------------------------------------------------------ edits
    async def _body(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type != "application/json":  # a form post from another site cannot send JSON
            raise _refuse(415, "send JSON")
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise _refuse(400, "the body is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("conversation"), str):
            raise _refuse(400, "say which conversation")
        return body

    async def _conversation(self, wanted: str) -> Tuple[str, List[Dict[str, Any]]]:
        found = await find_conversation(self.endpoints, self.domain, wanted)
        if found is None:
            raise _refuse(404, "no such conversation in the tracker store")
        return found

    async def _save_example(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        sender_id, events = await self._conversation(body["conversation"])
        index = body.get("event")
        turn = next((t for t in parse_conversation(sender_id, events, None).turns if t.event_index == index), None)
        if turn is None:
            raise _refuse(400, "that is not a message from the citizen")
        if turn.personal:
            raise _refuse(400, "an answer to a form question is the citizen's own data (a name, an address): "
                               "it does not go into the training data")
        form = body.get("form") if body.get("form") in FORMS else turn.form
        intent = str(body.get("intent") or "")
        return await self._edit(edits.save_example, self.project, turn.text, intent, form or "en")

    async def _save_story(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        sender_id, events = await self._conversation(body["conversation"])
        title = " ".join(str(body.get("title") or "needs review").split())[:120]
        return await self._edit(edits.save_story, self.project, sender_id, events, title)

    async def _edit(self, function: Callable[..., edits.Saved], *args: Any) -> web.StreamResponse:
        try:
            saved = await asyncio.get_running_loop().run_in_executor(None, function, *args)
        except edits.EditRefused as refused:
            return web.json_response({"saved": False, "message": str(refused)}, status=422)
        return web.json_response({"saved": saved.changed, "path": str(saved.path), "message": saved.message})


_ERRORS = {400: web.HTTPBadRequest, 404: web.HTTPNotFound, 415: web.HTTPUnsupportedMediaType}


def _refuse(status: int, message: str) -> web.HTTPException:
    """An error the page shows as it is (JSON with the message)."""
    return _ERRORS[status](text=json.dumps({"saved": False, "message": message}), content_type="application/json")
