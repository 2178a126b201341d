#!/usr/bin/env bash
# The "null" clips: speech that says none of the expected answers, in Hindi, Odia and
# English. What Whisper writes for them is what it expects anyway; an
# answer's evidence is how much more likely a voice note makes it (speech/matcher.py).
# Committed; regenerate with espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg).
# Changing them changes every score: re-run bench/voice_answers.py and re-check the
# thresholds in speech/answers.py.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
say() {  # say FILE VOICE SPEED TEXT
  espeak-ng -v "$2" -s "$3" -w "$tmp/$1.wav" "$4" < /dev/null
  ffmpeg -nostdin -loglevel error -y -i "$tmp/$1.wav" -ac 1 -ar 16000 -c:a libopus -b:a 16k \
    -map_metadata -1 -fflags +bitexact "$1.ogg"
}
say hi  hi+m2 140 "किसान ने बाज़ार में आलू और प्याज़ बेचे"
say or  or+f3 140 "ନଦୀ କୂଳରେ ପିଲାମାନେ ଖେଳୁଥିଲେ"
say en  en+m4 150 "the train was late because of the rain"
ls -l ./*.ogg
