"""Talk to a running assistant from the terminal, through its REST channel.

Buttons are shown numbered; type the number to tap one. Usage: make chat
(RASA_URL to point elsewhere, SENDER to be another citizen).
"""
from __future__ import annotations

import json
import os
import sys
import urllib.request
import uuid

URL = os.environ.get("RASA_URL", "http://localhost:5005") + "/webhooks/rest/webhook"
SENDER = os.environ.get("SENDER", f"terminal-{uuid.uuid4().hex[:8]}")


def send(message: str) -> list:
    body = json.dumps({"sender": SENDER, "message": message}).encode()
    request = urllib.request.Request(URL, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def main() -> int:
    print(f"Talking to {URL} as {SENDER}. Type a message; numbers tap buttons; Ctrl-D quits.")
    buttons: list = []
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            replies = send(text)
        except OSError as error:
            print(f"(cannot reach the assistant: {error}; is `make run` running?)", file=sys.stderr)
            continue
        buttons = []
        for reply in replies:
            if reply.get("text"):
                print(f"bot> {reply['text']}")
            for button in reply.get("buttons") or []:
                buttons.append(button)
                print(f"     [{len(buttons)}] {button['title']}")


if __name__ == "__main__":
    sys.exit(main())
