#!/usr/bin/env bash
# Start the action server and the Rasa server; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA=.venv/bin/rasa
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
mkdir -p var logs

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

if [ "${SPEECH_ENABLED:-true}" != "false" ]; then
  echo "Preparing the speech model..."
  if ! .venv/bin/python -m speech prepare; then
    echo "The speech model is not usable (see above). Fix it, or start without voice: SPEECH_ENABLED=false make run" >&2
    exit 1
  fi
fi

# Without a real WhatsApp number, run the simulator: the fake Graph API with a chat page,
# wired to the real webhook; Rasa's HTTP API is enabled, with a fresh token, for its
# designer panel only in this mode.
rasa_api=()
if [ -z "${WHATSAPP_ACCESS_TOKEN:-}" ]; then
  SIMULATOR_PORT="${SIMULATOR_PORT:-8080}"
  random() { .venv/bin/python -c 'import secrets; print(secrets.token_hex(24))'; }
  export WHATSAPP_APP_SECRET="$(random)" WHATSAPP_VERIFY_TOKEN="$(random)" WHATSAPP_ACCESS_TOKEN="$(random)"
  export WHATSAPP_PHONE_NUMBER_ID=106540352242922
  export WHATSAPP_API_BASE_URL="http://127.0.0.1:${SIMULATOR_PORT}/v21.0"
  rasa_token="$(random)"
  rasa_api=(--enable-api --auth-token "$rasa_token")
  .venv/bin/python -m fakegraph.simulator --port "$SIMULATOR_PORT" \
    --webhook "http://127.0.0.1:${RASA_PORT}/webhooks/whatsapp/webhook" \
    --app-secret "$WHATSAPP_APP_SECRET" --access-token "$WHATSAPP_ACCESS_TOKEN" \
    --phone-number-id "$WHATSAPP_PHONE_NUMBER_ID" \
    --rasa-url "http://127.0.0.1:${RASA_PORT}" --rasa-token "$rasa_token" >logs/simulator.log 2>&1 &
  pids+=($!)
fi

# Without a department system to deliver to, run the fake department (its page lists what
# it received and sends status changes back, signed, like the real one would).
if [ -z "${DEPARTMENT_API_URL:-}" ]; then
  DEPARTMENT_PORT="${DEPARTMENT_PORT:-8090}"
  export DEPARTMENT_API_SECRET="${DEPARTMENT_API_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')}"
  export DEPARTMENT_API_URL="http://127.0.0.1:${DEPARTMENT_PORT}"
  fake_department=1
  .venv/bin/python -m fakedepartment --port "$DEPARTMENT_PORT" --secret "$DEPARTMENT_API_SECRET" \
    --seva-status-url "http://127.0.0.1:${RASA_PORT}/webhooks/department/status" >logs/department.log 2>&1 &
  pids+=($!)
fi

"$RASA" run actions --actions actions --port "$ACTIONS_PORT" >logs/actions.log 2>&1 &
pids+=($!)
"$RASA" run --model models/seva.tar.gz --port "$RASA_PORT" --credentials credentials.yml \
  --endpoints endpoints.yml "${rasa_api[@]}" >logs/rasa.log 2>&1 &
pids+=($!)

echo "Starting (logs in logs/actions.log and logs/rasa.log)..."
for _ in $(seq 1 180); do
  if curl -fsS "http://localhost:${RASA_PORT}/status" >/dev/null 2>&1 || \
     curl -fsS "http://localhost:${RASA_PORT}/" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "A server failed to start; see logs/." >&2; exit 1; fi
  done
  sleep 1
done
if [ ${#rasa_api[@]} -gt 0 ]; then
  cat <<MSG

Chat page (a local WhatsApp simulator, through the real webhook):
  http://localhost:${SIMULATOR_PORT}/
Review page for conversation designers (run \`make review\` to build or refresh it):
  http://localhost:${SIMULATOR_PORT}/review/
MSG
fi
if [ -n "${fake_department:-}" ]; then
  cat <<MSG

Department page (a fake department system: what Seva delivered; approve or reject from it):
  http://localhost:${DEPARTMENT_PORT}/
MSG
fi
cat <<MSG

Seva is running.
  Talk to it in this terminal:   make chat        (in a second terminal)
  Or over HTTP (REST channel):   curl -s localhost:${RASA_PORT}/webhooks/rest/webhook \\
                                   -d '{"sender":"test-user","message":"ନମସ୍କାର"}'
  Officer tools:                 .venv/bin/python -m seva.officer list
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A server exited; see logs/." >&2
