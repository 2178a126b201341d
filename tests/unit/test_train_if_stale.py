"""scripts/train-if-stale.sh retrains when any training file changes, including the NLU
examples the review page saves under data/reviewed/ (a subfolder), and only then."""
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE_RASA = """#!/usr/bin/env bash
# stands in for `rasa train`: counts its calls and writes the model
echo train >> "$(dirname "$0")/../../calls"
mkdir -p models && echo model > models/seva.tar.gz
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "train-if-stale.sh", tmp_path / "scripts")
    for name in ("config.yml", "domain.yml", "requirements.txt"):
        (tmp_path / name).write_text(f"# {name}\n", encoding="utf-8")
    for name in ("components/a.py", "seva/language.py", "seva/textnorm.py", "data/nlu.yml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n", encoding="utf-8")
    rasa = tmp_path / ".venv" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text(FAKE_RASA, encoding="utf-8")
    rasa.chmod(0o755)
    return tmp_path


def _run(tree: Path) -> int:
    subprocess.run(["bash", str(tree / "scripts" / "train-if-stale.sh")], check=True, capture_output=True,
                   env={**os.environ})
    calls = tree / "calls"
    return len(calls.read_text().split()) if calls.exists() else 0


def test_trains_once_then_again_only_when_a_file_under_data_changes(tmp_path):
    tree = _tree(tmp_path)
    assert _run(tree) == 1
    assert _run(tree) == 1  # nothing changed: no training
    reviewed = tree / "data" / "reviewed" / "or.yml"
    reviewed.parent.mkdir()
    reviewed.write_text("nlu: []\n", encoding="utf-8")
    assert _run(tree) == 2  # a new file in a subfolder of data/
    assert _run(tree) == 2
    reviewed.write_text("nlu:\n- intent: greet\n  examples: |\n    - ନମସ୍କାର\n", encoding="utf-8")
    assert _run(tree) == 3  # its content changed
