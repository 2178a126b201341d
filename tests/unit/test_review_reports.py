"""The review page's reports (review/reports.py): story graphs drawn by Graphviz, one per file or
section, big ones left out; the NLU reports' cache; and notes instead of crashes.

The real `rasa test nlu` on the shipped model (about 35 s) is not run here: unit tests run before
`make train`. tests/e2e runs it through `build_nlu_reports`.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from review import reports
from review.reports import ReportError, build_nlu_reports, build_reports, build_story_graphs
from tests.nlu_heldout import FORMS, load_heldout

ROOT = Path(__file__).resolve().parents[2]

TWO_RULES = """\
version: "3.1"
rules:
  - rule: say hello
    steps:
      - intent: greet
      - action: utter_greet
  # --- farewells
  - rule: say goodbye
    steps:
      - intent: goodbye
      - action: utter_goodbye
"""


def need_dot() -> None:
    assert shutil.which("dot"), "Graphviz is required (apt-get install graphviz; .ci/run installs it)"


@pytest.fixture
def project(tmp_path):
    """A project with the repo's domain and its held-out set; no data files yet."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    shutil.copy(ROOT / "domain.yml", root / "domain.yml")
    shutil.copytree(ROOT / "tests" / "nlu", root / "tests" / "nlu")
    return root


def write_rules(project: Path, text: str) -> Path:
    path = project / "data" / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rules_file_is_drawn_as_an_svg_naming_its_actions_and_intents(project, tmp_path):
    need_dot()
    write_rules(project, TWO_RULES.replace("  # --- farewells\n", ""))
    result = build_story_graphs(tmp_path / "out", project)
    assert result.notes == []
    [(title, svg)] = result.story_graphs
    assert title == "data/rules.yml (2 rules)"
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    labels = set(re.findall(r"<text[^>]*>([^<]+)</text>", text))
    assert {"START", "END", "/greet", "utter_greet", "/goodbye", "utter_goodbye"} <= labels


def test_a_section_comment_starts_a_graph_of_its_own(project, tmp_path):
    need_dot()
    write_rules(project, TWO_RULES)
    result = build_story_graphs(tmp_path / "out", project)
    titles = [title for title, _ in result.story_graphs]
    assert titles == ["data/rules.yml — “say hello”", "data/rules.yml — farewells (1 rule)"]
    first, second = (svg.read_text(encoding="utf-8") for _, svg in result.story_graphs)
    assert "utter_greet" in first and "utter_goodbye" not in first
    assert "utter_goodbye" in second and "utter_greet" not in second


def test_a_graph_over_the_node_limit_is_left_out_with_a_note(project, tmp_path):
    need_dot()
    write_rules(project, TWO_RULES.replace("  # --- farewells\n", ""))
    # START, "...", /greet, utter_greet, /goodbye, utter_goodbye, END
    result = build_story_graphs(tmp_path / "out", project, max_nodes=6)
    assert result.story_graphs == []
    [note] = result.notes
    assert "data/rules.yml (2 rules)" in note and "7 nodes, more than the 6" in note and "# --- " in note
    assert build_story_graphs(tmp_path / "out", project, max_nodes=7).notes == []


def test_nlu_files_in_data_are_not_story_files(project, tmp_path):
    need_dot()
    write_rules(project, TWO_RULES)
    (project / "data" / "nlu.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n',
                                              encoding="utf-8")
    result = build_story_graphs(tmp_path / "out", project)
    assert result.notes == [] and all("rules.yml" in title for title, _ in result.story_graphs)


def test_the_story_graphs_are_cached_until_the_data_changes(project, tmp_path, monkeypatch):
    need_dot()
    rules = write_rules(project, TWO_RULES)
    drawn = []
    render = reports._render_svg
    monkeypatch.setattr(reports, "_render_svg", lambda graph, dot: drawn.append(1) or render(graph, dot))
    out = tmp_path / "out"
    first = build_story_graphs(out, project)
    assert len(drawn) == 2
    assert build_story_graphs(out, project) == first and len(drawn) == 2
    rules.write_text(TWO_RULES.replace("utter_goodbye", "utter_you_are_welcome"), encoding="utf-8")
    third = build_story_graphs(out, project)
    assert len(drawn) == 4 and "utter_you_are_welcome" in third.story_graphs[1][1].read_text(encoding="utf-8")
    assert [p.name for p in out.glob("graphs-*")] == [third.story_graphs[0][1].parent.name]  # the old one is gone


def test_without_graphviz_there_are_no_graphs_and_a_note_says_how_to_install_it(project, tmp_path, monkeypatch):
    write_rules(project, TWO_RULES)
    monkeypatch.setattr(reports.shutil, "which", lambda name: None)
    result = build_story_graphs(tmp_path / "out", project)
    assert result.story_graphs == []
    [note] = result.notes
    assert "Graphviz" in note and "apt-get install graphviz" in note
    assert not list((tmp_path / "out").glob("graphs-*"))  # nothing cached: installing it is enough


def test_the_real_rules_and_stories_each_get_a_graph_or_a_note(tmp_path):
    need_dot()
    result = build_story_graphs(tmp_path / "out")
    for name in ("data/rules.yml", "data/stories.yml"):
        assert any(title.startswith(name) for title, _ in result.story_graphs) or any(name in n for n in result.notes)
    for _, svg in result.story_graphs:
        assert "<svg" in svg.read_text(encoding="utf-8")
    assert any("utter_greet" in svg.read_text(encoding="utf-8") for _, svg in result.story_graphs)


def test_the_merged_heldout_file_is_the_heldout_set_as_rasa_reads_it(tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    merged = tmp_path / "heldout.yml"
    reports.write_merged_heldout([ROOT / "tests" / "nlu" / f"{form}.yml" for form in FORMS], merged)
    data = load_data(str(merged))
    expected = sorted((ex.intent, ex.text) for ex in load_heldout())
    assert sorted((m.get("intent"), m.get("text")) for m in data.intent_examples) == expected


class FakeRasaTestNlu:
    """Stands in for `rasa test nlu`: writes what it writes (and a big file that is not kept)."""

    def __init__(self, writes=("intent_confusion_matrix.png", "intent_histogram.png", "intent_report.json")):
        self.calls = 0
        self.writes = writes

    def __call__(self, model, nlu_file, out, project):
        self.calls += 1
        assert "intent: greet" in nlu_file.read_text(encoding="utf-8")
        out.mkdir(parents=True)
        for name in self.writes:
            (out / name).write_bytes(b"made by the fake")
        (out / "intent_successes.json").write_bytes(b"x" * 100_000)


def test_the_nlu_reports_are_cached_until_the_model_changes(project, tmp_path, monkeypatch):
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model one")
    fake = FakeRasaTestNlu()
    monkeypatch.setattr(reports, "run_rasa_test_nlu", fake)
    out = tmp_path / "out"
    first = build_nlu_reports(out, model, project)
    assert fake.calls == 1 and first.notes == []
    assert first.confusion_matrix and first.confusion_matrix.read_bytes() == b"made by the fake"
    assert first.histogram and first.histogram.name == "intent_histogram.png"
    assert first.intent_report and first.intent_errors is None
    cache = first.confusion_matrix.parent
    assert re.fullmatch(r"nlu-[0-9a-f]{12}", cache.name) and cache.parent == out
    assert sorted(p.name for p in cache.iterdir()) == [
        "intent_confusion_matrix.png", "intent_histogram.png", "intent_report.json"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [cache.name]  # no work left

    assert build_nlu_reports(out, model, project) == first and fake.calls == 1

    model.write_bytes(b"model two")
    second = build_nlu_reports(out, model, project)
    assert fake.calls == 2 and second.confusion_matrix and second.confusion_matrix.parent != cache
    assert not cache.exists()  # the old model's reports are removed

    (project / "tests" / "nlu" / "or.yml").write_text(
        (ROOT / "tests" / "nlu" / "or.yml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    build_nlu_reports(out, model, project)
    assert fake.calls == 3  # a changed held-out file too


def test_without_a_model_there_are_no_nlu_reports_and_a_note_says_to_train(project, tmp_path, monkeypatch):
    fake = FakeRasaTestNlu()
    monkeypatch.setattr(reports, "run_rasa_test_nlu", fake)
    result = build_reports(tmp_path / "out", tmp_path / "no-model.tar.gz", project)
    assert fake.calls == 0
    assert result.confusion_matrix is None and result.histogram is None
    assert any("no trained model" in n and "make train" in n for n in result.notes)


def test_a_failed_rasa_test_is_a_note_and_is_tried_again_next_time(project, tmp_path, monkeypatch):
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    calls = []

    def failing(model, nlu_file, out, project):
        calls.append(1)
        raise ReportError("No NLU reports: `rasa test nlu` failed (exit status 1). Its last words: boom")

    monkeypatch.setattr(reports, "run_rasa_test_nlu", failing)
    out = tmp_path / "out"
    for attempt in (1, 2):
        result = build_nlu_reports(out, model, project)
        assert result.confusion_matrix is None and result.notes == [
            "No NLU reports: `rasa test nlu` failed (exit status 1). Its last words: boom"]
        assert len(calls) == attempt
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []


def test_a_rasa_test_that_writes_no_plots_is_a_note(project, tmp_path, monkeypatch):
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    monkeypatch.setattr(reports, "run_rasa_test_nlu", FakeRasaTestNlu(writes=("intent_report.json",)))
    result = build_nlu_reports(tmp_path / "out", model, project)
    assert result.confusion_matrix is None
    assert result.notes == ["No NLU reports: `rasa test nlu` finished but wrote no "
                            "intent_confusion_matrix.png or intent_histogram.png."]


def test_a_failing_rasa_command_is_reported_with_its_exit_status(project, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    (tmp_path / "work").mkdir()
    with pytest.raises(ReportError, match=r"`rasa test nlu` failed \(exit status 1\)"):
        reports.run_rasa_test_nlu(tmp_path / "model.tar.gz", tmp_path / "heldout.yml",
                                  tmp_path / "work" / "results", project)


def test_build_reports_turns_an_unexpected_error_into_a_note(project, tmp_path, monkeypatch):
    def broken(out_dir, project):
        raise RuntimeError("bug")

    monkeypatch.setattr(reports, "build_story_graphs", broken)
    monkeypatch.setattr(reports, "run_rasa_test_nlu", FakeRasaTestNlu())
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    result = build_reports(tmp_path / "out", model, project)
    assert result.confusion_matrix is not None and result.story_graphs == []
    assert result.notes == ["The story graphs failed unexpectedly: RuntimeError: bug"]
