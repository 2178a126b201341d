"""The designers' review loop end to end (issue 20): real conversations through WhatsApp, then
`make review`, then the page in headless Chromium.

Four citizens talk to a real `rasa run` + action server through the fake Graph API: an Odia
one whose message NLU could not place (a fallback) and who asks for something the model
files under the wrong intent; an Odia one who leaves an income-certificate form at its
second question; an Odia one whose voice note is not audio (refused); an English one whose
voice note is refused too. `make review` (on the test's stores) must list each with its kind, mask the
numbers and hide the form answer. The chat page serves it at /review/: Chromium filters by
Odia (the English conversation disappears), saves the misfiled Odia message as an NLU
example under the right intent (it lands in data/reviewed/or.yml of a copy of the project,
and `rasa data validate` still passes), saves the abandoned form as a test story, and takes
the screenshot the README shows.
"""
import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

from fakegraph.server import envelope, media_message, text
from fakegraph.simulator import SimulatorGraph
from review.conversations import conversation_id
from speech.clips import FIXTURES
from tests.e2e.servers import MODEL, ROOT, Stack

SECRET, TOKEN = "review-app-secret", "review-rasa-token"
CHROMIUM = "/usr/bin/chromium"
FALLBACK_OR, ABANDONED_OR, VOICE_OR, ENGLISH_VOICE = "919437000801", "919437000802", "919437000803", "919437000804"
MISFILED = "ମୋତେ କୂଅ ଖୋଳିବା ଅନୁମତି ଦରକାର"  # asks for a well-digging permission; saved as apply_service
# Messages that carry little a model can read. DIET is overconfident, so which of them ends
# below the FallbackClassifier's threshold changes with every retraining: the test asks the
# running model and uses the first that falls back (fallback_message).
NONSENSE = ["ଏ", "?", "👍", "...", "xkcd plmn", "ଙ ଞ", "qwzx", "zzzz", "ଠ", "abc xyz", "lol", "mmm", "ঝ", "ꯑ",
            "hmm ok", "Привет", "!!!", "#", "ok ok ok ok ok", "1 2 3", "क्ष", "ஆ", "你好", "ହଁ ନା ହଁ ନା", "kya", "ki"]
NAME = "ରମେଶ ସାହୁ"  # a form answer: never on the page
SHOT = ROOT / "results" / "review.png"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of what the page's buttons edit, so the test never changes the repository."""
    copy = tmp_path_factory.mktemp("project")
    for name in ("data", "tests/nlu", "tests/stories"):
        shutil.copytree(ROOT / name, copy / name)
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, copy / name)
    return copy


@pytest.fixture(scope="module")
def world(tmp_path_factory, project):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    workdir = tmp_path_factory.mktemp("review")
    out = workdir / "page"
    graph = SimulatorGraph(app_secret=SECRET, rasa_token=TOKEN)
    graph.start()
    stack = Stack.for_whatsapp(workdir, graph, SECRET)
    try:
        stack.start_actions()
        stack.start_rasa("--enable-api", "--auth-token", TOKEN)  # /model/parse, to find a fallback message
        # the chat page's /review/ on this test's stores, saving into the project copy
        graph.review.out_dir, graph.review.endpoints, graph.review.project = out, stack.endpoints, project
        yield graph, stack, out
    finally:
        stack.stop()
        graph.stop()


def send(graph, stack, message):
    assert graph.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([message["id"]])


def type_(graph, stack, sender, words):
    send(graph, stack, text(sender, words))


def voice_note(graph, sender, clip):
    media_id = graph.add_media((FIXTURES / clip).read_bytes())
    return media_message(sender, "audio", media_id, mime_type="audio/ogg; codecs=opus", voice=True)


def fallback_message(stack):
    """The first of NONSENSE the running model sends to nlu_fallback."""
    for message in NONSENSE:
        request = urllib.request.Request(f"{stack.rasa_url}/model/parse?token={TOKEN}",
                                         json.dumps({"text": message}).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            if json.load(response)["intent"]["name"] == "nlu_fallback":
                return message
    pytest.fail(f"the model sends none of {len(NONSENSE)} nonsense messages to nlu_fallback: is the "
                "FallbackClassifier still in config.yml, and its threshold still reachable? (bench.nlu_eval)")


@pytest.fixture(scope="module")
def conversations(world):
    graph, stack, _ = world
    nonsense = fallback_message(stack)
    type_(graph, stack, FALLBACK_OR, "ନମସ୍କାର")
    type_(graph, stack, FALLBACK_OR, nonsense)
    type_(graph, stack, FALLBACK_OR, MISFILED)
    type_(graph, stack, ABANDONED_OR, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର")
    type_(graph, stack, ABANDONED_OR, NAME)
    type_(graph, stack, ABANDONED_OR, "ବାତିଲ")  # cancels at the second question
    type_(graph, stack, VOICE_OR, "ନମସ୍କାର")
    send(graph, stack, voice_note(graph, VOICE_OR, "not_audio.ogg"))
    type_(graph, stack, ENGLISH_VOICE, "hello")
    send(graph, stack, voice_note(graph, ENGLISH_VOICE, "not_audio.ogg"))
    return world


def articles(page_html):
    """conversation id → (languages, kinds, the article's HTML)."""
    found = {}
    for match in re.finditer(r'<article class="item" id="(c[0-9a-f]+)"[^>]*data-languages="([^"]*)" '
                             r'data-kinds="([^"]*)"[^>]*>(.*?)</article>', page_html, re.S):
        found[match.group(1)] = (match.group(2).split(), match.group(3).split(), match.group(4))
    return found


@pytest.fixture(scope="module")
def built(conversations):
    graph, stack, out = conversations
    args = (f"--out {out} --endpoints {stack.endpoints} --app-db-url {stack.app_db_url} "
            f"--idle-minutes 0")
    result = subprocess.run(["make", "--no-print-directory", "review", f"REVIEW_ARGS={args}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, (out / "index.html").read_text(encoding="utf-8")


def test_make_review_lists_the_fallback_the_abandoned_form_and_the_refused_voice_note(built):
    stdout, page = built
    items = articles(page)
    fallback = items[conversation_id(FALLBACK_OR)]
    assert "fallback" in fallback[1] and "or" in fallback[0]
    abandoned = items[conversation_id(ABANDONED_OR)]
    assert "abandoned_form" in abandoned[1]
    assert re.search(r"cancelled at question &#x27;\w+&#x27;|cancelled at question '\w+'", abandoned[2]), abandoned[2]
    voice = items[conversation_id(VOICE_OR)]
    assert "voice" in voice[1] and "not_audio" in voice[2]
    english = items[conversation_id(ENGLISH_VOICE)]
    assert "voice" in english[1] and english[0] == ["en"]
    # newest first: the English conversation came last
    assert list(items)[0] == conversation_id(ENGLISH_VOICE)
    # the funnel of the abandoned form: started, first question answered, left at the second
    funnel = re.search(r'<table class="funnel" data-service="income_certificate" data-language="or">(.*?)</table>',
                       page, re.S)
    assert funnel, "no income certificate funnel in Odia"
    counts = [int(n) for n in re.findall(r"<tr[^>]*><td>[^<]*</td><td>(\d+)</td>", funnel.group(1))]
    assert counts[:3] == [1, 1, 1] and counts[-1] == 0, counts  # started, question 1, question 2 … submitted 0


def test_the_page_masks_numbers_and_hides_form_answers(built):
    _, page = built
    for number in (FALLBACK_OR, ABANDONED_OR, VOICE_OR, ENGLISH_VOICE):
        assert number not in page
        assert number[:2] + "******" + number[-4:] in page
    assert NAME not in page
    assert "(hidden)" in page


def test_model_reports_are_linked_from_the_page(built):
    _, page = built
    links = re.findall(r'<img src="(reports/[^"]+)"', page)
    assert any("confusion" in link for link in links), links
    assert any("histogram" in link for link in links), links
    assert any("graph" in link for link in links), links


def test_chromium_filters_odia_saves_an_example_and_a_story(conversations, built, project, caplog):
    graph, stack, out = conversations
    caplog.set_level("DEBUG")  # the page's server runs in this process: what it logs lands here
    url = f"http://127.0.0.1:{graph.port}/review/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.goto(url)
        english = page.locator(f"article#{conversation_id(ENGLISH_VOICE)}")
        expect(english).to_be_visible()
        page.select_option("#filter-language", "or")
        expect(english).to_be_hidden()
        expect(page.locator(f"article#{conversation_id(ABANDONED_OR)}")).to_be_visible()
        item = page.locator(f"article#{conversation_id(FALLBACK_OR)}")
        turn = item.locator("li.turn", has_text=MISFILED)
        turn.locator("select.intent-pick").select_option("apply_service")
        turn.locator("button.save-example").click()
        expect(turn.locator(".save-result")).to_contain_text("data/reviewed/or.yml", timeout=120_000)
        story_item = page.locator(f"article#{conversation_id(ABANDONED_OR)}")
        story_item.locator("button.save-story").click()
        expect(story_item.locator(".story-result")).to_contain_text("tests/stories/test_review_", timeout=120_000)
        turn.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOT), full_page=False)
        browser.close()

    saved = yaml.safe_load((project / "data" / "reviewed" / "or.yml").read_text(encoding="utf-8"))
    blocks = {b["intent"]: b["examples"] for b in saved["nlu"]}
    assert f"- {MISFILED}" in blocks["apply_service"]
    assert not (project / "data" / "reviewed" / "en.yml").exists()
    story = (project / "tests" / "stories" / f"test_review_{conversation_id(ABANDONED_OR)}.yml").read_text("utf-8")
    assert "intent: cancel" in story and "application_form" in story
    assert NAME not in story  # the answer is written as its intent only
    for private in (MISFILED, FALLBACK_OR, ABANDONED_OR, "/review/api"):
        assert private not in caplog.text
    check = subprocess.run([str(ROOT / ".venv/bin/rasa"), "data", "validate", "--fail-on-warnings", "--quiet",
                            "--data", "data", f"tests/stories/test_review_{conversation_id(ABANDONED_OR)}.yml"],
                           cwd=project, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
