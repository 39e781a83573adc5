#!/usr/bin/env bash
# Training end to end through the CLI: `tandem run` on a scenario with a [train] table trains
# a primary and two secondaries, writes Table 1, the router table and the paper tables, then
# sweeps in model mode; a second run keeps the trained checkpoints; `tandem eval` prints its
# line; bad input fails with a clear message.
set -euo pipefail
bin=$(realpath "${1:-.build/release/tandem}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp Tests/Fixtures/scenarios/train_tiny.toml "$dir/"
for i in $(seq 60); do
  echo "to be or not to be, that is the question: whether tis nobler in the mind to suffer"
done > "$dir/text.txt"
cd "$dir"
"$bin" run train_tiny.toml --results results --plots plots --no-render 2>log || { cat log >&2; exit 1; }
for f in table1.csv training.csv router.csv table2.csv table4.csv speedup.csv run.json; do
  [ -s "results/$f" ] || { echo "FAIL: results/$f missing or empty" >&2; cat log >&2; exit 1; }
done
grep -q '"corpus_train"' results/run.json || { echo "FAIL: run.json lacks the corpus digest" >&2; exit 1; }
grep -q "^tandem,tandem,group,valid," results/table1.csv \
  || { echo "FAIL: table1.csv lacks the tandem row" >&2; exit 1; }
"$bin" run train_tiny.toml --results results --plots plots --no-render 2>log2
grep -q "complete checkpoint kept" log2 || { echo "FAIL: second run retrained" >&2; cat log2 >&2; exit 1; }
line=$("$bin" eval --scenario train_tiny.toml --secondary-name tandem --text text.txt --context 32 2>/dev/null)
eval_pattern='^perplexity=[0-9.]+ cross_entropy=[0-9.]+ tokens=[0-9]+ accuracy=[0-9.]+ '
eval_pattern+='agreement=[0-9.]+ tv_distance=[0-9.]+$'
echo "$line" | grep -Eq "$eval_pattern" \
  || { echo "FAIL: eval printed '$line'" >&2; exit 1; }
if "$bin" eval --primary-checkpoint checkpoints/primary.safetensors --text missing.txt 2>err; then
  echo "FAIL: eval of a missing file succeeded" >&2; exit 1
fi
grep -q "missing.txt" err || { echo "FAIL: no file name in '$(cat err)'" >&2; exit 1; }
# Ctrl-C during training: exit status 130, a message saying how to resume, and the same command
# then finishes from the saved state.
mkdir -p stop && sed 's/steps = 60,/steps = 2000,/' train_tiny.toml > stop/train_tiny.toml && cp text.txt stop/
(cd stop && exec "$bin" train train_tiny.toml --results results 2>log) &
pid=$!
for _ in $(seq 100); do [ -s stop/checkpoints/primary.state.safetensors ] && break; sleep 0.1; done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 130 ] || { echo "FAIL: interrupted train exited $status, expected 130" >&2; cat stop/log >&2; exit 1; }
grep -q "run the same command again to resume" stop/log \
  || { echo "FAIL: no resume hint" >&2; cat stop/log >&2; exit 1; }
(cd stop && "$bin" train train_tiny.toml --results results 2>log2) \
  || { echo "FAIL: resumed train failed" >&2; cat stop/log2 >&2; exit 1; }
[ -s stop/results/table1.csv ] || { echo "FAIL: resumed train wrote no table1.csv" >&2; exit 1; }
echo "train: tiny scenario trained 3 models, wrote Table 1/2/4 and router.csv, kept checkpoints on rerun;" \
  "Ctrl-C exits 130 and resumes; eval: $line"
