#!/usr/bin/env bash
# Renders the reply clip the stub streams as the caller's voice. Run once, at development time,
# and commit the result: the stub itself needs neither espeak-ng nor sox.
#   openai-stub/scripts/render_clip.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/src/openai_stub/clips/reply.pcm"
text="Hi. I don't really know why I called."
tmp="$(mktemp --suffix=.wav)"
trap 'rm -f "$tmp"' EXIT
espeak-ng -v en-us -s 170 -w "$tmp" "$text"
# PCM16 little-endian, 24 kHz, mono, leading and trailing silence trimmed
sox -D "$tmp" -r 24000 -c 1 -b 16 -e signed-integer -t raw "$out" \
  silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
echo "wrote $out ($(stat -c %s "$out") bytes)"
