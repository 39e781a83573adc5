#!/bin/bash
# Re-runs calibration and report on copies of committed results, without measuring anything:
#   scripts/reanalyse.sh TANDEM_BINARY OUT_DIR [SCENARIO ...]
# Each results/NAME is copied to OUT_DIR/NAME and `tandem run scenarios/NAME.toml --resume` keeps
# its profile and finished sweep points, so two builds can be compared on the same measurements.
# Prints each run's two report lines (probed and a-priori prediction quality).
set -euo pipefail
binary=$(realpath "$1") out=$(realpath -m "$2")
shift 2
scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
    scenarios=(quickstart block-size acceptance context-length secondary-size smollm2 smollm2-q4
               paper-tiny paper-small paper-tiny-t1 paper-small-t1)
fi
cd "$(dirname "$0")/.."
mkdir -p "$out"
for name in "${scenarios[@]}"; do
    if [ ! -f "scenarios/$name.toml" ] || [ ! -f "results/$name/sweep_runs.csv" ]; then
        echo "reanalyse: skipping $name (no scenario or no committed results)" >&2
        continue
    fi
    rm -rf "${out:?}/$name"
    cp -r "results/$name" "$out/$name"
    if ! log=$("$binary" run "scenarios/$name.toml" --results "$out/$name" --plots "$out/plots-$name" \
        --resume --no-render 2>&1); then
        echo "reanalyse: $name failed:" >&2
        echo "$log" | tail -5 >&2
        continue
    fi
    echo "$log" | grep "^report:" | sed "s/^/$name /" || echo "reanalyse: $name printed no report" >&2
done
