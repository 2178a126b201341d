#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 needs 3.8-3.10), or nothing.
# pyenv's shims answer `command -v python3.10` even when 3.10 is not selected, so every
# candidate is actually run before it is trusted.
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; }
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -rV); do
    candidates+=("$(pyenv prefix "$v" 2>/dev/null)/bin/python3.10")
  done
fi
candidates+=($HOME/.pyenv/versions/3.10*/bin/python3.10 "$(command -v python3.10 2>/dev/null)" /usr/bin/python3.10 /usr/local/bin/python3.10)
for c in "${candidates[@]}"; do
  if works "$c"; then echo "$c"; exit 0; fi
done
exit 1
