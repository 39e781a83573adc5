#!/usr/bin/env bash
# Killing a run mid-sweep and re-running with --resume yields the same set of sweep points as
# an uninterrupted run, with no duplicates and no half-written file.
set -euo pipefail
bin=${1:-.build/release/tandem}
scenario=Tests/Fixtures/scenarios/resume.toml
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The reproducible columns of every row, by name (Tests/cli/sweep_keys.py).
keys() { python3 "$(dirname "$0")/sweep_keys.py" "$1"; }

"$bin" run "$scenario" --results "$dir/full" --plots "$dir/full-plots" --no-render 2>/dev/null

"$bin" run "$scenario" --results "$dir/cut" --plots "$dir/cut-plots" --no-render 2>/dev/null &
pid=$!
# Wait until some but not all points are on disk, then kill -9.
total=$(keys "$dir/full/sweep_runs.csv" | wc -l)
for _ in $(seq 1 600); do
  if [ -f "$dir/cut/sweep_runs.csv" ]; then
    n=$(($(wc -l <"$dir/cut/sweep_runs.csv") - 1))
    if [ "$n" -ge 4 ]; then break; fi
  fi
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
before=$(($(wc -l <"$dir/cut/sweep_runs.csv") - 1))
if [ "$before" -ge "$total" ]; then
  echo "FAIL: the run finished before it could be killed ($before rows)" >&2; exit 1
fi
# No temporary file may be mistaken for a result, and the file must parse (whole rows only).
awk -F, 'NR == 1 { n = NF } NR > 1 && NF != n { bad = 1 } END { exit bad }' "$dir/cut/sweep_runs.csv" \
  || { echo "FAIL: half-written row" >&2; exit 1; }
cp "$dir/cut/sweep_runs.csv" "$dir/before.csv"

"$bin" run "$scenario" --results "$dir/cut" --plots "$dir/cut-plots" --no-render --resume 2>"$dir/resume.log"
grep -q "resuming" "$dir/resume.log" \
  || { echo "FAIL: --resume did not keep the finished points" >&2; cat "$dir/resume.log" >&2; exit 1; }
if ! diff <(keys "$dir/full/sweep_runs.csv") <(keys "$dir/cut/sweep_runs.csv") >/dev/null; then
  echo "FAIL: resumed rows differ from an uninterrupted run's" >&2
  diff <(keys "$dir/full/sweep_runs.csv") <(keys "$dir/cut/sweep_runs.csv") >&2 || true
  exit 1
fi
# No temporary file survives the resume (a kill mid-write may leave one; resume removes it).
if ls -A "$dir/cut" | grep -q '\.tmp-'; then echo "FAIL: a temporary file was left behind" >&2; exit 1; fi
# The rows written before the kill survive verbatim.
head -n "$((before + 1))" "$dir/cut/sweep_runs.csv" | cmp -s - "$dir/before.csv" \
  || { echo "FAIL: rows written before the kill changed on resume" >&2; exit 1; }
# A changed scenario is refused on resume (unless --force).
sed 's/^tokens = .*/tokens = 13/' "$scenario" >"$dir/changed.toml"
if "$bin" run "$dir/changed.toml" --results "$dir/cut" --plots "$dir/cut-plots" --no-render --resume 2>"$dir/err"; then
  echo "FAIL: --resume accepted a changed scenario" >&2; exit 1
fi
grep -q "changed since" "$dir/err" || { echo "FAIL: unclear refusal: $(cat "$dir/err")" >&2; exit 1; }
dups=$(keys "$dir/cut/sweep_runs.csv" | uniq -d | wc -l)
[ "$dups" -eq 0 ] || { echo "FAIL: $dups duplicate rows after resume" >&2; exit 1; }
echo "resume: killed after $before of $total rows; resumed run has the same $total rows, no duplicates"
