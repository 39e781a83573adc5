#!/usr/bin/env bash
# `tandem run` on the tiny scenario produces every report file and plot, and every gnuplot
# script renders on its own with plain gnuplot from its directory.
set -euo pipefail
bin=${1:-.build/release/tandem}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" run Tests/Fixtures/scenarios/tiny.toml --results "$dir/results/tiny" --plots "$dir/plots/tiny" 2>"$dir/log" \
  || { cat "$dir/log" >&2; exit 1; }
for f in run.json layers.csv calibration.csv acceptance.csv speedup.csv summary.md block_cost.csv \
    layer_breakdown_primary.csv iid_tests.csv round_costs.csv; do
  [ -s "$dir/results/tiny/$f" ] || { echo "FAIL: results/tiny/$f missing or empty" >&2; exit 1; }
done
head -1 "$dir/results/tiny/speedup.csv" | grep -q "strategy,drafter,secondary,policy,gamma,alpha" \
  || { echo "FAIL: speedup.csv header" >&2; exit 1; }
head -1 "$dir/results/tiny/layers.csv" | tr -d '\r' \
  | grep -qx "model,layer,component,phase,tokens,context,calls,mean_ns,median_ns,sd_ns,ci95_lo_ns,ci95_hi_ns" \
  || { echo "FAIL: layers.csv header" >&2; exit 1; }
# round_costs.csv: a row per speculative point, every ratio positive and finite; in sweep_runs.csv
# each run's verify and draft phases fit inside its wall time (columns looked up by name).
col() {
  tr -d '\r' <"$1" | awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i
    if (!c) { print "FAIL: no column " name > "/dev/stderr"; exit 1 }; next } { print $c }'
}
rows=$(col "$dir/results/tiny/round_costs.csv" verify_ratio | wc -l)
[ "$rows" -ge 1 ] || { echo "FAIL: round_costs.csv has no rows" >&2; exit 1; }
for name in baseline_ratio verify_ratio drafting_ratio; do
  col "$dir/results/tiny/round_costs.csv" "$name" | awk -v n="$name" \
    '!($1 > 0 && $1 < 100) { print "FAIL: round_costs.csv " n " = " $1; bad = 1 } END { exit bad }' >&2
done
paste -d' ' <(col "$dir/results/tiny/sweep_runs.csv" verify_ns) <(col "$dir/results/tiny/sweep_runs.csv" draft_ns) \
  <(col "$dir/results/tiny/sweep_runs.csv" strategy_ns) \
  | awk '$1 + $2 > $3 { print "FAIL: sweep_runs.csv verify_ns + draft_ns " $1 + $2 " > strategy_ns " $3; bad = 1 }
      END { exit bad }' >&2
scripts=$(ls "$dir/plots/tiny"/*.gp | wc -l)
[ "$scripts" -ge 6 ] || { echo "FAIL: only $scripts gnuplot scripts" >&2; exit 1; }
rm -f "$dir/plots/tiny"/*.png "$dir/plots/tiny"/*.svg
(cd "$dir/plots/tiny" && for gp in *.gp; do
  gnuplot "$gp" 2>"$dir/gp.err" || { echo "FAIL: gnuplot $gp" >&2; cat "$dir/gp.err" >&2; exit 1; }
done)
for gp in "$dir/plots/tiny"/*.gp; do
  [ -s "${gp%.gp}.png" ] && [ -s "${gp%.gp}.svg" ] || { echo "FAIL: $gp did not render PNG and SVG" >&2; exit 1; }
done
"$bin" plot "$dir/plots/tiny" 2>/dev/null
echo "run: tiny scenario wrote every report file; $scripts gnuplot scripts render to PNG and SVG"
