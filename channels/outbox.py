"""Sends replies from a thread of their own, in order per recipient, without holding up the dialogue.

Rasa awaits each bot message as it is uttered. On the channel's worker loop, where every
citizen's NLU and policies run synchronously, each of those awaits let other citizens'
turns run before the next message of this answer went out, so an answer of three messages
waited three times (turn p95 at 50 citizens: 1.35× the REST channel's, bench/RESULTS.md).
Here a send is handed to the sender thread's loop and the dialogue goes on at once; one
recipient's messages go out one after another, in the order they were handed over, and a
caller can wait for a turn's sends to finish (the channel does, before it forgets a message).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Dict

from channels.graph_client import GraphClient, SendResult


class Outbox:
    def __init__(self, client: GraphClient):
        self.client = client
        self._loop = asyncio.new_event_loop()
        self._locks: Dict[str, asyncio.Lock] = {}  # one per recipient with sends in flight
        self._in_flight: Dict[str, int] = {}
        threading.Thread(target=self._run, name="whatsapp-sender", daemon=True).start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def post(self, body: Dict[str, Any]) -> "concurrent.futures.Future[SendResult]":
        """Queue one message; callable from any thread. The future resolves when it is sent or given up."""
        return asyncio.run_coroutine_threadsafe(self._send(body), self._loop)

    async def _send(self, body: Dict[str, Any]) -> SendResult:
        recipient = str(body.get("to") or "")
        lock = self._locks.setdefault(recipient, asyncio.Lock())  # asyncio.Lock wakes waiters in FIFO order
        self._in_flight[recipient] = self._in_flight.get(recipient, 0) + 1
        try:
            async with lock:
                return await self.client.send(body)
        finally:
            self._in_flight[recipient] -= 1
            if not self._in_flight[recipient]:
                del self._in_flight[recipient], self._locks[recipient]
