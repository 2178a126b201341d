#!/usr/bin/env bash
# Train only when the training inputs changed since the last model. Staleness is judged by
# a hash of the inputs' contents taken *before* training (file times can lie: an edit
# made while training runs must still trigger the next training).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=models/seva.tar.gz
STAMP=models/seva.inputs.sha256
# data/ is read recursively, as `rasa train` reads it (data/reviewed/ holds the examples saved
# from the review page); names are hashed too, so moving examples between files counts.
mapfile -t data_files < <(find data -name '*.yml' -type f | LC_ALL=C sort)
inputs=(config.yml domain.yml "${data_files[@]}" components/*.py seva/language.py seva/textnorm.py requirements.txt)
digest=$(for f in "${inputs[@]}"; do echo "== $f"; cat "$f"; done | sha256sum | cut -d' ' -f1)
if [ -f "$MODEL" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ]; then
  echo "Model is up to date ($MODEL)."
  exit 0
fi
mkdir -p models
echo "Training (inputs changed)..."
start=$(date +%s)
.venv/bin/rasa train --fixed-model-name seva --out models --quiet
echo "$digest" > "$STAMP"
echo "Trained in $(( $(date +%s) - start )) s."
