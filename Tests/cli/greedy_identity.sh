#!/usr/bin/env bash
# Greedy SPEED output must be byte-identical to the primary's own greedy output, and a seeded
# run must reproduce itself. Runs the real CLI on the default random-weight models.
set -euo pipefail
bin=${1:-.build/release/tandem}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
prompt="Speculative decoding, verified"
"$bin" generate --strategy primary --max-tokens 24 --prompt "$prompt" --no-timers >"$dir/primary" 2>/dev/null
for args in "--strategy speed --gamma 3" "--strategy tandem-speed --gamma 5" \
            "--strategy tandem-speed --policy heuristic" \
            "--strategy tandem-speed --policy confidence --p-min 0.2" "--strategy speed --policy router --tau 0.5"; do
  # shellcheck disable=SC2086
  "$bin" generate $args --max-tokens 24 --prompt "$prompt" >"$dir/out" 2>/dev/null
  if ! cmp -s "$dir/primary" "$dir/out"; then
    echo "FAIL: '$args' differs from the primary's greedy output" >&2; exit 1
  fi
done
"$bin" generate --strategy tandem-speed --temperature 0.9 --seed 7 --max-tokens 24 --prompt "$prompt" \
  >"$dir/a" 2>/dev/null
"$bin" generate --strategy tandem-speed --temperature 0.9 --seed 7 --max-tokens 24 --prompt "$prompt" \
  >"$dir/b" 2>/dev/null
cmp -s "$dir/a" "$dir/b" || { echo "FAIL: the same seed gave different sampled output" >&2; exit 1; }
echo "greedy identity: speed and tandem-speed (fixed, heuristic, confidence, router) equal primary;" \
  "seeded sampling reproduces"
