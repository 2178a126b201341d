"""The local chat page in headless Chromium, through the real webhook path: choose Odia,
apply for an income certificate with buttons, a list and typed answers, get the reference
number; from another number, send a voice clip and see the transcript echoed; open the
designer panel. Screenshots go to results/."""
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from fakegraph.simulator import PHONE_NUMBERS, SimulatorGraph
from seva import reference
from speech.clips import FIXTURES
from tests.e2e.servers import MODEL, ROOT, Stack

SECRET, TOKEN = "sim-app-secret", "sim-rasa-token"
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "results"
SHOTS.mkdir(exist_ok=True)
REFERENCE = reference.PRINTED
WAIT = 90_000  # ms: the first reply of a fresh stack loads TensorFlow graphs


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    graph = SimulatorGraph(app_secret=SECRET, rasa_token=TOKEN)
    graph.start()
    stack = Stack.for_whatsapp(tmp_path_factory.mktemp("sim"), graph, SECRET)
    stack.start_actions()
    stack.start_rasa("--enable-api", "--auth-token", TOKEN)  # and points the graph's webhooks at it
    graph.rasa_url = stack.rasa_url
    yield graph, stack
    stack.stop()
    graph.stop()


@pytest.fixture(scope="module")
def page(simulator):
    graph, _ = simulator
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(f"http://127.0.0.1:{graph.port}/")
        yield page
        browser.close()


def bot(page, text, timeout=WAIT):
    """The bot bubble containing ``text`` (waits for it)."""
    bubble = page.locator("li.msg.bot", has_text=text).last
    bubble.wait_for(timeout=timeout)
    return bubble


def say(page, text):
    page.fill("#text", text)
    page.keyboard.press("Enter")


def test_odia_income_certificate_application_by_taps_and_typing(page, simulator):
    graph, _ = simulator
    page.select_option("#number", PHONE_NUMBERS[0])
    say(page, "ନମସ୍କାର")
    bot(page, "ନମସ୍କାର")  # the greeting offers the three languages as reply buttons
    page.locator("li.msg.bot .actions button", has_text="ଓଡ଼ିଆ").last.click()
    expect(page.locator("#language")).to_have_text("ଓଡ଼ିଆ", timeout=WAIT)
    say(page, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର")
    bot(page, "(1/5)")
    for answer, step in [("ରମେଶ ସାହୁ", "(2/5)"), ("ଗୋପାଳ ସାହୁ", "(3/5)"), ("କଟକ", "(4/5)"), ("୬୦୦୦୦", "(5/5)")]:
        say(page, answer)
        question = bot(page, step)
    question.locator(".actions button").click()  # a list message: open it
    dialog = page.locator("#list-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("button.row[data-id=education]").click()
    summary = bot(page, "₹60,000")
    summary.locator(".actions button").first.click()  # confirm and submit
    done = bot(page, REFERENCE)
    reference = REFERENCE.search(done.inner_text()).group(0)
    # what the page showed is what the channel sent to the fake Graph API
    assert any(reference in str(body) for body in graph.messages_to(PHONE_NUMBERS[0]))
    # every message the citizen sent was marked read (blue ticks)
    expect(page.locator("li.msg.me .ticks.read")).to_have_count(page.locator("li.msg.me").count())
    page.screenshot(path=str(SHOTS / "simulator-odia-application.png"), full_page=True)


def test_voice_clip_upload_shows_the_transcript_echo(page, simulator):
    graph, _ = simulator
    page.select_option("#number", PHONE_NUMBERS[1])
    page.set_input_files("#upload", str(FIXTURES / "en_income.ogg"))
    expect(page.locator("li.msg.me audio")).to_have_count(1)
    echo = bot(page, "🎤 I heard:")
    assert "income certificate" in echo.inner_text()
    bot(page, "(1/5)")
    # the clip went through the fake's media endpoints, byte for byte
    assert (FIXTURES / "en_income.ogg").read_bytes() in [m.data for m in graph.media.values()]


def test_designer_panel_shows_intent_form_and_slots(page):
    page.click("#toggle-panel")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#turns li").first).to_contain_text("apply_service", timeout=WAIT)
    expect(panel.locator("#turns")).to_contain_text("application_form")
    expect(panel.locator("#slots")).to_contain_text("service")
    page.screenshot(path=str(SHOTS / "simulator-voice-and-panel.png"), full_page=True)


def test_reset_starts_a_fresh_conversation(page):
    page.click("#reset")
    expect(page.locator("li.msg")).to_have_count(0)
    expect(page.locator("#slots")).to_contain_text("none", timeout=WAIT)
    say(page, "hello")
    bot(page, "Namaskar")


def test_the_page_fits_a_phone_screen(page):
    page.set_viewport_size({"width": 390, "height": 844})
    for selector in ("#text", "#send", "#mic", "#number"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
        assert box["y"] + box["height"] <= 844, selector
    page.screenshot(path=str(SHOTS / "simulator-phone.png"))
