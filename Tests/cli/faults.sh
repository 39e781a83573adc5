#!/usr/bin/env bash
# Faults a long run must survive, on the real CLI:
#  1. a second run on the same results directory is refused while the first holds it (lock file);
#  2. SIGINT mid-sweep stops at a safe point with exit status 130 and a message saying how to
#     resume; `--resume` then gives the same rows as an uninterrupted run;
#  3. a full disk (a small tmpfs, filled mid-sweep) gives a clear error naming the file, leaves the
#     rows already written intact, and `--resume` after freeing space completes with the same rows.
set -euo pipefail
bin=${1:-.build/release/tandem}
scenario=Tests/Fixtures/scenarios/faults.toml
dir=$(mktemp -d)
mnt=$dir/small
cleanup() { mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"; rm -rf "$dir"; }
trap cleanup EXIT
keys() { python3 "$(dirname "$0")/sweep_keys.py" "$1"; }
rows() { [ -f "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }
# Waits until FILE has at least N rows (or the process PID ended).
wait_rows() {
  local file=$1 n=$2 pid=$3
  for _ in $(seq 1 1200); do
    [ "$(rows "$file")" -ge "$n" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}
run() { "$bin" run "$scenario" --plots "$dir/plots" --no-render "$@"; }

run --results "$dir/full" 2>/dev/null
total=$(rows "$dir/full/sweep_runs.csv")

# 1 + 2: lock, then SIGINT mid-sweep.
"$bin" run "$scenario" --plots "$dir/plots" --no-render --results "$dir/int" 2>"$dir/int.log" &
pid=$!
wait_rows "$dir/int/sweep_runs.csv" 8 "$pid" || { echo "FAIL: the sweep ended before it could be stopped" >&2; exit 1; }
if run --results "$dir/int" 2>"$dir/second.log"; then echo "FAIL: a second run on a busy directory ran" >&2; exit 1; fi
grep -q "in use by another tandem run (pid $pid" "$dir/second.log" \
  || { echo "FAIL: unclear refusal of the second run: $(cat "$dir/second.log")" >&2; exit 1; }
kill -INT "$pid"
status=0; wait "$pid" || status=$?
[ "$status" -eq 130 ] \
  || { echo "FAIL: SIGINT gave exit status $status, expected 130" >&2; tail -3 "$dir/int.log" >&2; exit 1; }
grep -q "sweep interrupted; .* points are saved in .*--resume" "$dir/int.log" \
  || { echo "FAIL: no resume instructions after SIGINT: $(tail -2 "$dir/int.log")" >&2; exit 1; }
stopped=$(rows "$dir/int/sweep_runs.csv")
[ "$stopped" -lt "$total" ] || { echo "FAIL: the run finished despite SIGINT" >&2; exit 1; }
if ls -A "$dir/int" | grep -q '\.tmp-'; then echo "FAIL: SIGINT left a temporary file" >&2; exit 1; fi
run --results "$dir/int" --resume 2>/dev/null
diff <(keys "$dir/full/sweep_runs.csv") <(keys "$dir/int/sweep_runs.csv") >/dev/null \
  || { echo "FAIL: rows after SIGINT + --resume differ from an uninterrupted run's" >&2; exit 1; }
echo "faults: a second run on a busy directory is refused; SIGINT after $stopped of $total rows exits 130," \
  "--resume completes with the same rows"

# 3: disk full.
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
  echo "faults: SKIPPED the disk-full check: cannot mount a tmpfs here (needs root)" >&2
  exit 0
fi
"$bin" run "$scenario" --plots "$dir/plots" --no-render --results "$mnt/r" 2>"$dir/full-disk.log" &
pid=$!
wait_rows "$mnt/r/sweep_runs.csv" 8 "$pid" || { echo "FAIL: the sweep ended before the disk could fill" >&2; exit 1; }
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null || true # fills the tmpfs: ENOSPC from here on
cp "$mnt/r/sweep_runs.csv" "$dir/before-full.csv"
status=0; wait "$pid" || status=$?
[ "$status" -ne 0 ] || { echo "FAIL: the run succeeded on a full disk" >&2; exit 1; }
grep -q "cannot write $mnt/r/[a-z_.]*: .*No space left on device" "$dir/full-disk.log" \
  || { echo "FAIL: unclear error on a full disk: $(tail -2 "$dir/full-disk.log")" >&2; exit 1; }
kept=$(rows "$mnt/r/sweep_runs.csv")
head -n "$(($(rows "$dir/before-full.csv") + 1))" "$mnt/r/sweep_runs.csv" | cmp -s - "$dir/before-full.csv" \
  || { echo "FAIL: rows written before the disk filled changed" >&2; exit 1; }
awk -F, 'NR == 1 { n = NF } NR > 1 && NF != n { bad = 1 } END { exit bad }' "$mnt/r/sweep_runs.csv" \
  || { echo "FAIL: half-written row after a full disk" >&2; exit 1; }
if ls -A "$mnt/r" | grep -q '\.tmp-'; then echo "FAIL: a failed write left its temporary file" >&2; exit 1; fi
rm "$mnt/filler"
run --results "$mnt/r" --resume 2>/dev/null
diff <(keys "$dir/full/sweep_runs.csv") <(keys "$mnt/r/sweep_runs.csv") >/dev/null \
  || { echo "FAIL: rows after a full disk + --resume differ from an uninterrupted run's" >&2; exit 1; }
echo "faults: a full disk after $kept of $total rows gives '$(grep -o 'cannot write [^;]*' "$dir/full-disk.log" \
  | head -1)', keeps the rows, and --resume completes with the same rows"
