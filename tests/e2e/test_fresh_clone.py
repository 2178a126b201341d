"""A fresh clone run the way Rasa's docs say keeps its conversations.

The servers run in a working directory that has the repository's own `endpoints.yml`
(tracker store `var/tracker.db`, relative) and `credentials.yml`, the application store at
its documented default `sqlite:///var/seva.db`, and no `var/` folder. Before the fix,
Rasa logged "unable to open database file", fell back to an in-memory store whose
`retrieve` returns nothing, and the citizen's second message started a new conversation.
"""
import shutil
import subprocess

import pytest

from tests.e2e.servers import MODEL, ROOT, Stack

SENDER = "919437000222"


class FreshClone(Stack):
    """The real servers started from ``clone`` (their working directory), as a user would."""

    def __init__(self, clone):
        super().__init__(clone, extra_env={"APP_DB_URL": "sqlite:///var/seva.db", "SPEECH_ENABLED": "false"})
        shutil.copy(ROOT / "credentials.yml", clone / "credentials.yml")

    def write_endpoints(self):
        """The repository's own endpoints.yml, with the action server's port (known once it listens)."""
        endpoints = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
        assert 'db: "var/tracker.db"' in endpoints and "http://localhost:5055/webhook" in endpoints
        self.endpoints.write_text(endpoints.replace(
            "http://localhost:5055/webhook", f"http://127.0.0.1:{self.actions_port}/webhook"), encoding="utf-8")

    def _spawn(self, name, args):
        log = open(self.workdir / f"{name}.log", "ab")
        self._logs.append(log)
        return subprocess.Popen(args, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


@pytest.fixture
def clone(tmp_path):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    stack = FreshClone(tmp_path)
    yield stack
    stack.stop()


def text_of(replies):
    return "\n".join(r.get("text") or "" for r in replies)


def test_a_fresh_clone_remembers_the_conversation(clone):
    var = clone.workdir / "var"
    assert not var.exists()
    clone.start_actions()
    clone.start_rasa()

    card = text_of(clone.say(SENDER, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"))
    assert "(1/5)" in card, card
    # only a remembered conversation knows this name answers question 1 of the form
    reply = text_of(clone.say(SENDER, "ରମେଶ ସାହୁ"))
    assert "(2/5)" in reply, reply

    assert (var / "tracker.db").is_file() and (var / "seva.db").is_file()
    assert "unable to open database file" not in clone.log_text("rasa")
