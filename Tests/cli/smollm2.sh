#!/usr/bin/env bash
# SmolLM2-135M (GGUF, from `make models`) through the CLI: greedy English from the primary;
# greedy speed (drafting with SmolLM2 itself, so drafts are accepted, and with a random plain
# secondary, so they are rejected) and tandem-speed (a random tandem secondary of its
# vocabulary) byte-identical to it; eval prints a sane perplexity; bad GGUF paths fail clearly.
set -euo pipefail
bin=${1:-.build/release/tandem}
model=${2:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -f "$model" ] || { echo "FAIL: $model missing (run make models)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
small="--secondary-preset s2"
prompt="The capital of France is"
"$bin" generate --primary-gguf "$model" --strategy primary --max-tokens 16 --prompt "$prompt" --no-timers \
  >"$dir/primary" 2>/dev/null
grep -q "Paris" "$dir/primary" || { echo "FAIL: no 'Paris' in: $(cat "$dir/primary")" >&2; exit 1; }
for args in "--strategy speed --gamma 4 --secondary-gguf $model" "--strategy speed --gamma 3 $small" \
            "--strategy tandem-speed --gamma 5 $small" "--strategy tandem-speed --policy heuristic $small"; do
  # shellcheck disable=SC2086
  "$bin" generate --primary-gguf "$model" $args --max-tokens 16 --prompt "$prompt" --json "$dir/stats.json" \
    >"$dir/out" 2>/dev/null
  if ! cmp -s "$dir/primary" "$dir/out"; then
    echo "FAIL: '$args' differs from the primary's greedy output:" >&2
    echo "  primary: $(cat "$dir/primary")" >&2; echo "  got:     $(cat "$dir/out")" >&2; exit 1
  fi
done
# Drafting with SmolLM2 itself, every greedy draft must be accepted.
"$bin" generate --primary-gguf "$model" --strategy speed --gamma 4 --secondary-gguf "$model" --max-tokens 16 \
  --prompt "$prompt" >/dev/null 2>"$dir/self"
grep -q "accept = 100.000%" "$dir/self" || { echo "FAIL: self-drafting: $(grep n_drafted "$dir/self")" >&2; exit 1; }
# Weights kept quantized as stored (Q4_1, head Q8_0): still English, and SPEED (drafting with
# SmolLM2 itself, also stored, and with a random tandem secondary) identical to it.
"$bin" generate --primary-gguf "$model" --weights stored --strategy primary --max-tokens 16 --prompt "$prompt" \
  --no-timers >"$dir/stored" 2>/dev/null
grep -q "Paris" "$dir/stored" || { echo "FAIL: --weights stored: no 'Paris' in: $(cat "$dir/stored")" >&2; exit 1; }
for args in "--strategy speed --gamma 4 --secondary-gguf $model" "--strategy tandem-speed --gamma 5 $small"; do
  # shellcheck disable=SC2086
  "$bin" generate --primary-gguf "$model" --weights stored $args --max-tokens 16 --prompt "$prompt" \
    >"$dir/out" 2>/dev/null
  if ! cmp -s "$dir/stored" "$dir/out"; then
    echo "FAIL: --weights stored '$args' differs from the stored primary's greedy output:" >&2
    echo "  primary: $(cat "$dir/stored")" >&2; echo "  got:     $(cat "$dir/out")" >&2; exit 1
  fi
done
# A chat turn ends with the end-of-sequence token (<|im_end|>): generation stops there, for the primary and
# for SPEED alike (same text); --ignore-eos runs on to --max-tokens.
chat=$'<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'
"$bin" generate --primary-gguf "$model" --weights stored --strategy primary --max-tokens 100 --prompt "$chat" \
  --no-timers >"$dir/chat" 2>"$dir/chat.err"
"$bin" generate --primary-gguf "$model" --weights stored --strategy speed --gamma 4 --secondary-gguf "$model" \
  --max-tokens 100 --prompt "$chat" --no-timers >"$dir/chat-speed" 2>"$dir/chat-speed.err"
stopped=$(sed -n 's/.*n_predict = \([0-9]*\).*/\1/p' "$dir/chat.err")
[ -n "$stopped" ] && [ "$stopped" -lt 100 ] || { echo "FAIL: no stop at EOS (n_predict=$stopped)" >&2; exit 1; }
cmp -s "$dir/chat" "$dir/chat-speed" || { echo "FAIL: speed with EOS differs from the primary" >&2; exit 1; }
grep -q "n_predict = $stopped," "$dir/chat-speed.err" || { echo "FAIL: speed stopped elsewhere" >&2; exit 1; }
"$bin" generate --primary-gguf "$model" --weights stored --strategy primary --max-tokens 100 --prompt "$chat" \
  --no-timers --ignore-eos >/dev/null 2>"$dir/chat-all.err"
grep -q "n_predict = 100," "$dir/chat-all.err" || { echo "FAIL: --ignore-eos stopped early" >&2; exit 1; }
line=$("$bin" eval --primary-gguf "$model" --text /usr/share/common-licenses/GPL-3 --context 256 --max-chunks 2 \
  2>/dev/null)
ppl=$(sed -n 's/^perplexity=\([0-9.]*\) .*/\1/p' <<<"$line")
awk -v p="$ppl" 'BEGIN { exit !(p > 3 && p < 40) }' || { echo "FAIL: eval gave '$line'" >&2; exit 1; }
if "$bin" generate --primary-gguf "$dir/missing.gguf" --max-tokens 2 2>"$dir/err"; then
  echo "FAIL: a missing GGUF was accepted" >&2; exit 1
fi
grep -q "missing.gguf" "$dir/err" || { echo "FAIL: the error does not name the file: $(cat "$dir/err")" >&2; exit 1; }
head -c 4096 "$model" >"$dir/cut.gguf"
if "$bin" generate --primary-gguf "$dir/cut.gguf" --max-tokens 2 2>"$dir/err"; then
  echo "FAIL: a truncated GGUF was accepted" >&2; exit 1
fi
grep -q "truncated" "$dir/err" || { echo "FAIL: unclear error for a truncated GGUF: $(cat "$dir/err")" >&2; exit 1; }
if "$bin" generate --strategy speed --secondary-gguf "$model" --max-tokens 2 2>"$dir/err"; then
  echo "FAIL: a byte-level primary accepted SmolLM2 as its drafter" >&2; exit 1
fi
grep -q "another tokenizer" "$dir/err" || { echo "FAIL: vocabulary mismatch not named: $(cat "$dir/err")" >&2; exit 1; }
echo "smollm2: greedy '$(head -c 40 "$dir/primary" | tr '\n' ' ')...'; speed/tandem-speed identical;" \
  "a chat turn stops at EOS after $stopped tokens; eval $line"
