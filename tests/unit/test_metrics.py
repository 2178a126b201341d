"""seva/metrics.py, the Graph API client's error counts and the NLU-counting pipeline component.

Values are read from the module's registry as differences: other tests in the process may
move the same counters."""
import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from channels import whatsapp_outbound as out
from channels.graph_client import GraphClient
from components.nlu_metrics import NluMetrics
from fakegraph.server import FakeGraph
from seva import metrics
from speech.result import Outcome

ROOT = Path(__file__).resolve().parents[2]


def value(name, **labels):
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def scraped():
    return metrics.exposition().decode()


@pytest.fixture
def watchers():
    yield metrics.SCRAPE_TIME
    metrics.watch_inbox(None)
    metrics.watch_department_deliveries(None)


def test_messages_in_are_counted_by_type_and_unknown_types_share_one_label():
    text, audio, other = (value("seva_messages_in_total", type=t) for t in ("text", "audio", "other"))
    metrics.message_accepted("text")
    metrics.messages_accepted(["audio", "a type no one has heard of"])
    assert value("seva_messages_in_total", type="text") == text + 1
    assert value("seva_messages_in_total", type="audio") == audio + 1
    assert value("seva_messages_in_total", type="other") == other + 1
    assert "heard of" not in scraped()


def test_a_turn_counts_and_lands_in_its_latency_bucket():
    turns = value("seva_turns_total", channel="whatsapp")
    count = value("seva_turn_seconds_count", channel="whatsapp")
    under_half = value("seva_turn_seconds_bucket", channel="whatsapp", le="0.5")
    under_one = value("seva_turn_seconds_bucket", channel="whatsapp", le="1.0")
    metrics.turn_done("whatsapp", metrics.seconds_since(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=0.7)))
    assert value("seva_turns_total", channel="whatsapp") == turns + 1
    assert value("seva_turn_seconds_count", channel="whatsapp") == count + 1
    assert value("seva_turn_seconds_bucket", channel="whatsapp", le="0.5") == under_half
    assert value("seva_turn_seconds_bucket", channel="whatsapp", le="1.0") == under_one + 1
    assert metrics.TURN_BUCKETS[0] == 0.05 and metrics.TURN_BUCKETS[-1] == 30.0


def test_voice_outcomes_are_speech_outcomes_plus_not_received():
    assert set(metrics.VOICE_OUTCOMES) == {o.value for o in Outcome} | {"not_received"}
    choice, missing = value("seva_voice_notes_total", outcome="choice"), value("seva_voice_notes_total",
                                                                                outcome="not_received")
    metrics.voice_note(Outcome.CHOICE)
    metrics.voice_note("not_received")
    assert value("seva_voice_notes_total", outcome="choice") == choice + 1
    assert value("seva_voice_notes_total", outcome="not_received") == missing + 1


# -- Graph API errors, through the real client and the fake Graph API ------------------------
@pytest.fixture
def fake():
    server = FakeGraph().start()
    server.customer_wrote("911", time.time())  # the number the sends below answer wrote just now
    yield server
    server.stop()


def send(base_url, token, **kwargs):
    async def go():
        client = GraphClient(base_url, token, "123", **{"backoff_base": 0.01, "backoff_cap": 0.02, **kwargs})
        try:
            return await client.send(out.text_messages("911", "hello")[0])
        finally:
            await client.close()
    return asyncio.run(go())


def test_graph_api_errors_are_counted_by_code_for_each_failed_attempt(fake):
    before = {code: value("seva_graph_api_errors_total", code=code) for code in ("130429", "131000", "131047")}
    fake.fail("429", 2)
    fake.fail("500", 1)
    assert send(fake.base_url, fake.access_token).ok
    fake.fail("131047", 1)
    assert not send(fake.base_url, fake.access_token).ok
    after = {code: value("seva_graph_api_errors_total", code=code) for code in before}
    assert {code: after[code] - before[code] for code in before} == {"130429": 2, "131000": 1, "131047": 1}


def test_graph_api_errors_without_a_code_count_as_status_timeout_or_network(fake):
    timeouts, network = value("seva_graph_api_errors_total", code="timeout"), value(
        "seva_graph_api_errors_total", code="network")
    fake.fail("hang", 1, delay=0.6)
    assert send(fake.base_url, fake.access_token, timeout=0.2, max_attempts=1).ok is False
    assert value("seva_graph_api_errors_total", code="timeout") == timeouts + 1
    assert send("http://127.0.0.1:9", "token", max_attempts=1).ok is False  # nothing listens on port 9
    assert value("seva_graph_api_errors_total", code="network") == network + 1
    bad_gateway = value("seva_graph_api_errors_total", code="http_502")
    metrics.graph_api_error(None, 502)
    assert value("seva_graph_api_errors_total", code="http_502") == bad_gateway + 1


# -- the NLU component --------------------------------------------------------------------------
def parsed(text, intent):
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.3}})


def test_the_nlu_component_counts_classified_messages_and_fallbacks_not_payloads(caplog):
    component = NluMetrics.create({}, None, None, None)  # type: ignore[arg-type]
    messages, fallbacks = value("seva_nlu_messages_total"), value("seva_nlu_fallback_total")
    odd = parsed("secret words", "greet")
    odd.data["intent"] = "not a dict"  # never raises
    batch = [parsed("asdf qwerty zxcv", "nlu_fallback"), parsed("income certificate", "apply_service"),
             parsed('/inform{"district":"Cuttack"}', "inform"),  # a payload: the intent was given
             parsed("/nlu_fallback", "nlu_fallback"), parsed("", "greet"), odd]
    assert component.process(batch) == batch
    assert value("seva_nlu_messages_total") == messages + 3
    assert value("seva_nlu_fallback_total") == fallbacks + 1
    assert "secret words" not in caplog.text and "asdf" not in caplog.text


def test_the_pipeline_ends_with_the_nlu_component_after_the_fallback_classifier():
    import yaml

    names = [step["name"] for step in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    assert names[-2:] == ["FallbackClassifier", "components.nlu_metrics.NluMetrics"]


def test_inbox_gauges_are_read_from_the_registered_callable_at_scrape_time(watchers):
    state = {"stats": (3, 12.5)}
    metrics.watch_inbox(lambda: state["stats"])
    assert value("seva_inbox_depth") == 3 and value("seva_inbox_oldest_seconds") == 12.5
    state["stats"] = (0, None)
    assert value("seva_inbox_depth") == 0 and value("seva_inbox_oldest_seconds") == 0
    assert value("seva_metrics_source_up", source="inbox") == 1


def test_a_failing_source_leaves_its_gauges_out_without_failing_the_scrape(watchers, caplog):
    def database_down():
        raise ConnectionError("postgresql://seva:password@db/seva is down")

    metrics.watch_inbox(database_down)
    text = scraped()
    assert "seva_inbox_depth " not in text and 'seva_metrics_source_up{source="inbox"} 0.0' in text
    assert "seva_turns_total" in text and "password" not in caplog.text


def test_a_hanging_source_costs_a_scrape_its_timeout_and_one_thread_only(watchers, monkeypatch):
    monkeypatch.setattr(metrics.SCRAPE_TIME, "timeout", 0.2)
    release, calls = threading.Event(), []

    def hangs():
        calls.append(1)
        release.wait(5)
        return (1, 1.0)

    metrics.watch_inbox(hangs)
    try:
        for _ in range(3):
            started = time.monotonic()
            assert 'seva_metrics_source_up{source="inbox"} 0.0' in scraped()
            assert time.monotonic() - started < 1.0
        assert len(calls) == 1  # the later scrapes did not start a second call while the first hangs
    finally:
        release.set()
    metrics._running["metrics:inbox"].result(2)  # the first call returns once released


def test_department_deliveries_pending_is_0_before_any_application_table(tmp_path, watchers):
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'fresh.db'}", future=True)
    metrics.watch_department_deliveries(lambda: metrics.undelivered_applications(engine))
    assert value("seva_department_deliveries_pending") == 0
    assert value("seva_metrics_source_up", source="department_deliveries") == 1


def test_department_deliveries_pending_counts_applications_not_delivered(app_db, watchers):
    import sqlalchemy as sa

    from seva.store import department_deliveries

    for draft in ("d1", "d2", "d3"):
        app_db.submit(sender_id="919437000111", draft_id=draft, service_id="income_certificate",
                      language="en", fields={}, time_limit_days=15)
    with app_db.engine.begin() as conn:  # one delivered, one refused (still counted), one waiting
        ids = conn.execute(sa.select(department_deliveries.c.id).order_by(department_deliveries.c.id)).scalars().all()
        table = department_deliveries
        conn.execute(table.update().where(table.c.id == ids[0]).values(state="delivered"))
        conn.execute(table.update().where(table.c.id == ids[1]).values(state="failed"))
    metrics.watch_department_deliveries()  # default: one COUNT on APP_DB_URL
    assert value("seva_department_deliveries_pending") == 2
    assert value("seva_metrics_source_up", source="department_deliveries") == 1


def test_the_instance_is_named_by_seva_instance():
    env = {**os.environ, "SEVA_INSTANCE": "rasa-7", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", "from seva import metrics; print(metrics.exposition().decode())"],
                            env=env, capture_output=True, text=True, timeout=60, check=True)
    assert 'seva_instance_info{name="rasa-7"} 1.0' in result.stdout
    assert "process_resident_memory_bytes" in result.stdout
