"""The reports the designers' review page links to.

* How the shipped model does on the held-out NLU set (``tests/nlu/<form>.yml``): Rasa's own
  intent confusion matrix and intent confidence histogram, made by ``rasa test nlu`` exactly as
  on the command line (a subprocess: loading the model is most of its ~35 s either way, and the
  page's process then never holds TensorFlow and the model's 1.3 GB).
* The story graphs of the rules and stories in ``data/`` (what ``rasa visualize`` draws), as SVG
  drawn by Graphviz's ``dot``: ``rasa visualize`` writes an HTML page that loads its layout code
  from the internet. One graph per file, or per section of a file: a comment line
  ``# --- <title>`` between its rules (or stories) starts a section with that title. A graph of
  more than ``MAX_GRAPH_NODES`` nodes is left out, with a note, as too big to read.

Both are cached in ``out_dir`` under a key hashed from what they depend on, so only the first
``build_reports`` after a new model or a data change is slow. Nothing here raises: what could not
be made is ``None`` or missing in ``Reports``, and ``Reports.notes`` says why and how to fix it.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

from tests.nlu_heldout import FORMS  # the held-out set's language forms: one file each in tests/nlu/

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "seva.tar.gz"

# A story graph of more nodes than this (actions, intents, START, END and "...") is left out.
# The stories of data/stories.yml draw 26 nodes and read well; all 32 rules of data/rules.yml
# in one graph draw 47, fanned out 27 wide (3,800 px): too wide to follow a line through.
MAX_GRAPH_NODES = 40
# Rasa's default for `rasa visualize`: how far back two steps must agree to be drawn as one.
GRAPH_MAX_HISTORY = 2
NLU_TIMEOUT_S = 900
# Part of every cache key: change it when what goes into a cached report changes.
CACHE_VERSION = "1"

CONFUSION_MATRIX = "intent_confusion_matrix.png"
HISTOGRAM = "intent_histogram.png"
INTENT_REPORT = "intent_report.json"
INTENT_ERRORS = "intent_errors.json"
_NLU_KEEP = (CONFUSION_MATRIX, HISTOGRAM, INTENT_REPORT, INTENT_ERRORS)
_MANIFEST = "graphs.json"
_SECTION_HEADER = re.compile(r"^\s*#\s*---\s*(?P<title>.*?)\s*-*\s*$")


@dataclass(frozen=True)
class Reports:
    directory: Path  # where the files are (each under a cache subdirectory of it)
    confusion_matrix: Optional[Path] = None  # PNG
    histogram: Optional[Path] = None  # PNG (intent confidence histogram)
    story_graphs: List[Tuple[str, Path]] = field(default_factory=list)  # (title, SVG) per readable graph
    notes: List[str] = field(default_factory=list)  # plain English: what was left out or failed, and why
    intent_report: Optional[Path] = None  # Rasa's intent_report.json: precision, recall, F1 per intent
    intent_errors: Optional[Path] = None  # Rasa's intent_errors.json: each misclassified held-out message


class ReportError(Exception):
    """A report could not be made; the message is the note for the page."""


def build_reports(out_dir: Path, model: Path = DEFAULT_MODEL, project: Path = ROOT) -> Reports:
    """The NLU reports of ``model`` on the held-out set and the story graphs of ``project``'s data."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return Reports(out_dir, notes=[f"No reports: cannot create the directory {out_dir} ({e})."])
    nlu = _guarded(lambda: build_nlu_reports(out_dir, model, project), out_dir, "The NLU reports")
    graphs = _guarded(lambda: build_story_graphs(out_dir, project), out_dir, "The story graphs")
    return Reports(
        directory=out_dir,
        confusion_matrix=nlu.confusion_matrix,
        histogram=nlu.histogram,
        story_graphs=graphs.story_graphs,
        notes=nlu.notes + graphs.notes,
        intent_report=nlu.intent_report,
        intent_errors=nlu.intent_errors,
    )


def _guarded(make: Any, out_dir: Path, what: str) -> Reports:
    try:
        result: Reports = make()
        return result
    except Exception as e:  # the page shows what it has; a bug here must not take it down
        return Reports(out_dir, notes=[f"{what} failed unexpectedly: {type(e).__name__}: {e}"])


# --- NLU: the held-out set -------------------------------------------------------------------

def build_nlu_reports(out_dir: Path, model: Path = DEFAULT_MODEL, project: Path = ROOT) -> Reports:
    """Rasa's intent confusion matrix and histogram for ``model`` on the held-out set.

    Runs ``rasa test nlu`` (about 35 s on 2 cores, most of it loading the model) unless the
    reports for the same model file and held-out files are already in ``out_dir``.
    """
    out_dir = Path(out_dir)
    model = Path(model)
    heldout = [Path(project) / "tests" / "nlu" / f"{form}.yml" for form in FORMS]
    if not model.is_file():
        return Reports(out_dir, notes=[
            f"No NLU reports: there is no trained model at {model}. "
            "Train it with `make train` (or `make run`), then reload this page."])
    missing = [str(p) for p in heldout if not p.is_file()]
    if missing:
        return Reports(out_dir, notes=[
            f"No NLU reports: the held-out set is incomplete, missing {', '.join(missing)}."])
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = out_dir / f"nlu-{_digest([model, *heldout], root=Path(project))}"
    try:
        with _lock(out_dir / ".nlu.lock"):
            if not cache.is_dir():
                _make_nlu_reports(model, heldout, Path(project), out_dir, cache)
                _prune(out_dir, "nlu-", keep=cache)
    except ReportError as e:
        return Reports(out_dir, notes=[str(e)])

    def present(name: str) -> Optional[Path]:
        return cache / name if (cache / name).is_file() else None

    return Reports(
        directory=out_dir,
        confusion_matrix=present(CONFUSION_MATRIX),
        histogram=present(HISTOGRAM),
        intent_report=present(INTENT_REPORT),
        intent_errors=present(INTENT_ERRORS),
    )


def _make_nlu_reports(model: Path, heldout: Sequence[Path], project: Path, out_dir: Path, cache: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=".nlu-work-", dir=out_dir))
    try:
        nlu_file = work / "heldout.yml"
        write_merged_heldout(heldout, nlu_file)
        results = work / "results"
        run_rasa_test_nlu(model, nlu_file, results, project)
        absent = [name for name in (CONFUSION_MATRIX, HISTOGRAM) if not (results / name).is_file()]
        if absent:
            raise ReportError(f"No NLU reports: `rasa test nlu` finished but wrote no {' or '.join(absent)}.")
        keep = work / "keep"
        keep.mkdir()
        for name in _NLU_KEEP:
            if (results / name).is_file():
                shutil.move(str(results / name), str(keep / name))
        os.rename(keep, cache)  # all at once: a cache directory is always complete
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_merged_heldout(files: Sequence[Path], target: Path) -> None:
    """The held-out forms as one Rasa NLU YAML file, so ``rasa test nlu`` reads exactly these
    (given ``tests/nlu/`` it would read whatever else is there too)."""
    blocks: List[Dict[str, Any]] = []
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        blocks.extend(data.get("nlu") or [])
    target.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")


def run_rasa_test_nlu(model: Path, nlu_file: Path, out: Path, project: Path) -> None:
    """``rasa test nlu`` in a subprocess, its output in a log that only a failure's note quotes."""
    log_path = out.parent / "rasa-test-nlu.log"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
        "PYTHONWARNINGS": "ignore",
    }
    command = [sys.executable, "-m", "rasa", "test", "nlu", "--quiet", "--model", str(model), "--nlu",
               str(nlu_file), "--out", str(out), "--domain", str(project / "domain.yml")]
    try:
        with log_path.open("wb") as log:
            completed = subprocess.run(command, cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, timeout=NLU_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        raise ReportError(f"No NLU reports: `rasa test nlu` did not finish within {NLU_TIMEOUT_S} s.") from e
    except OSError as e:
        raise ReportError(f"No NLU reports: could not start `rasa test nlu` ({e}).") from e
    if completed.returncode != 0:
        raise ReportError(f"No NLU reports: `rasa test nlu` failed (exit status {completed.returncode}). "
                          f"Its last words: {_tail(log_path)}. If the model is damaged or stale, `make train` "
                          f"makes it again; `.venv/bin/rasa test nlu --model {model} --nlu tests/nlu` shows "
                          "the whole output.")


def _tail(log_path: Path, lines: int = 3, chars: int = 400) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    last = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " / ".join(last)[-chars:] or "(no output)"


# --- Story graphs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Section:
    title: Optional[str]  # from a `# --- title` comment line, if any
    names: Tuple[str, ...]  # rule and story names, in file order
    kinds: Tuple[str, ...]  # "rule" or "story" for each name


def build_story_graphs(out_dir: Path, project: Path = ROOT, max_nodes: int = MAX_GRAPH_NODES) -> Reports:
    """One SVG per story/rule file of ``project/data`` (per section, where it has sections)."""
    out_dir = Path(out_dir)
    project = Path(project)
    domain = project / "domain.yml"
    data = project / "data"
    if not domain.is_file():
        return Reports(out_dir, notes=[f"No story graphs: there is no domain file at {domain}."])
    dot = shutil.which("dot")
    if dot is None:
        return Reports(out_dir, notes=[
            "No story graphs: Graphviz is not installed (its `dot` command draws them). "
            "Install it with `apt-get install graphviz` (.ci/run does), then reload this page."])
    files = sorted(p for p in data.glob("*.y*ml") if p.is_file()) if data.is_dir() else []
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = out_dir / f"graphs-{_digest([domain, *files], root=project, extra=f'max_nodes={max_nodes}')}"
    with _lock(out_dir / ".graphs.lock"):
        if not cache.is_dir():
            work = Path(tempfile.mkdtemp(prefix=".graphs-work-", dir=out_dir))
            try:
                graphs, notes = _draw_story_graphs(files, domain, project, work, max_nodes, dot)
                manifest = {"graphs": [[title, name] for title, name in graphs], "notes": notes}
                (work / _MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
                work.chmod(0o755)  # mkdtemp makes it private; the page's server may be another user
                os.rename(work, cache)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            _prune(out_dir, "graphs-", keep=cache)
    manifest = json.loads((cache / _MANIFEST).read_text(encoding="utf-8"))
    return Reports(out_dir, story_graphs=[(title, cache / name) for title, name in manifest["graphs"]],
                   notes=list(manifest["notes"]))


def _draw_story_graphs(files: Sequence[Path], domain_path: Path, project: Path, work: Path, max_nodes: int,
                       dot: str) -> Tuple[List[Tuple[str, str]], List[str]]:
    graphs: List[Tuple[str, str]] = []
    notes: List[str] = []
    with _quiet():
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.training_data.loading import load_data_from_files
        from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
        from rasa.shared.core.training_data.visualization import visualize_stories

        try:
            domain = Domain.load(str(domain_path))
        except Exception as e:
            return [], [f"No story graphs: Rasa cannot read {_relative(domain_path, project)} ({e})."]
        for path in files:
            rel = _relative(path, project)
            try:
                if not YAMLStoryReader.is_stories_file(path):
                    continue
                steps = load_data_from_files([str(path)], domain)
                sections = _sections(path)
            except Exception as e:
                notes.append(f"No story graph of {rel}: Rasa cannot read it ({e}).")
                continue
            for number, section in enumerate(sections, start=1):
                title = _title(rel, section, len(sections))
                names = set(section.names)
                chosen = [step for step in steps if step.block_name in names]
                if not chosen:
                    continue
                try:
                    graph = visualize_stories(chosen, domain, None, GRAPH_MAX_HISTORY)
                except Exception as e:
                    notes.append(f"No story graph of {title}: Rasa could not build it ({type(e).__name__}: {e}).")
                    continue
                size = graph.number_of_nodes()
                if size > max_nodes:
                    notes.append(
                        f"The story graph of {title} is left out: it has {size} nodes, more than the "
                        f"{max_nodes} that stay readable. Split {rel} into sections with comment lines "
                        "`# --- <title>` between its rules or stories: each section gets its own graph.")
                    continue
                name = f"{_slug(path.stem)}-{number}.svg" if len(sections) > 1 else f"{_slug(path.stem)}.svg"
                try:
                    (work / name).write_bytes(_render_svg(graph, dot))
                except ReportError as e:
                    notes.append(f"No story graph of {title}: {e}")
                    continue
                graphs.append((title, name))
    return graphs, notes


def _sections(path: Path) -> List[_Section]:
    """The file's rules and stories in file order, cut where a `# --- title` comment line stands."""
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    items: List[Tuple[int, str, str]] = []  # (line, kind, name)
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            kind = {"rules": "rule", "stories": "story"}.get(key.value)
            if kind is None or not isinstance(value, yaml.SequenceNode):
                continue
            for item in value.value:
                if not isinstance(item, yaml.MappingNode):
                    continue
                for k, v in item.value:
                    if k.value == kind and isinstance(v, yaml.ScalarNode):
                        items.append((item.start_mark.line, kind, str(v.value)))
    items.sort()
    headers = [(number, match.group("title")) for number, line in enumerate(text.splitlines())
               if (match := _SECTION_HEADER.match(line))]
    sections: List[_Section] = []
    current: Optional[str] = None
    group: List[Tuple[int, str, str]] = []
    for line, kind, name in items:
        above = [title for number, title in headers if number < line]
        title = above[-1] if above else None
        if group and title != current:
            sections.append(_section(current, group))
            group = []
        current = title
        group.append((line, kind, name))
    if group:
        sections.append(_section(current, group))
    return sections


def _section(title: Optional[str], group: List[Tuple[int, str, str]]) -> _Section:
    return _Section(title or None, tuple(name for _, _, name in group), tuple(kind for _, kind, _ in group))


def _title(rel: str, section: _Section, sections: int) -> str:
    counts = []
    for kind, plural in (("story", "stories"), ("rule", "rules")):
        n = section.kinds.count(kind)
        if n:
            counts.append(f"{n} {kind if n == 1 else plural}")
    count = ", ".join(counts)
    if section.title:
        return f"{rel} — {section.title} ({count})"
    if sections == 1:
        return f"{rel} ({count})"
    if len(section.names) == 1:
        return f"{rel} — “{section.names[0]}”"
    return f"{rel} — “{section.names[0]}” to “{section.names[-1]}” ({count})"


def _render_svg(graph: Any, dot: str) -> bytes:
    """Rasa's networkx graph as SVG: pydot writes the DOT text, as for `rasa visualize`."""
    import networkx as nx

    text = nx.nx_pydot.to_pydot(graph).to_string()
    try:  # Helvetica: Graphviz's SVG then names "Helvetica,sans-Serif", which a browser has
        completed = subprocess.run([dot, "-Tsvg", "-Nfontname=Helvetica"], input=text.encode("utf-8"),
                                   capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ReportError(f"Graphviz's `dot` could not draw it ({e}).") from e
    if completed.returncode != 0 or b"<svg" not in completed.stdout:
        message = completed.stderr.decode("utf-8", errors="replace").strip()[-300:]
        raise ReportError(f"Graphviz's `dot` could not draw it (exit status {completed.returncode}: {message}).")
    return completed.stdout


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "graph"


def _relative(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path)


# --- Shared -----------------------------------------------------------------------------------

def _digest(paths: Sequence[Path], root: Path, extra: str = "") -> str:
    """First 12 hex digits of the SHA-256 of the files' names (relative to root) and bytes."""
    sha = hashlib.sha256(f"reports {CACHE_VERSION} {extra}\0".encode())
    for path in paths:
        sha.update(_relative(path, root).encode("utf-8") + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
        sha.update(b"\0")
    return sha.hexdigest()[:12]


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One maker at a time per out_dir (two page loads at once make the reports once)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(out_dir: Path, prefix: str, keep: Path) -> None:
    """Remove the reports of earlier models or data: only the current ones are linked."""
    for old in out_dir.glob(f"{prefix}*"):
        if old.is_dir() and old != keep:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No Rasa warnings, info lines or progress bars (domain deprecations, the story reader's and
    the tracker generator's chatter) on the console."""
    loggers = [logging.getLogger(name) for name in ("rasa", "matplotlib", "pydot")]
    levels = [logger.level for logger in loggers]
    log_level = os.environ.get("LOG_LEVEL")  # Rasa's: at WARNING or ERROR it shows no tqdm bars
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        os.environ["LOG_LEVEL"] = "ERROR"
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)
            if log_level is None:
                os.environ.pop("LOG_LEVEL", None)
            else:
                os.environ["LOG_LEVEL"] = log_level
