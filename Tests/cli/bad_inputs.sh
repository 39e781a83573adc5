#!/usr/bin/env bash
# Bad input fails clearly: for missing, empty, malformed (TOML syntax) and out-of-range
# scenarios, truncated safetensors checkpoints and bad option values, `tandem` exits with a
# non-zero status and its stderr names the file, the field or the option.
set -euo pipefail
bin=${1:-.build/release/tandem}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
# expect_failure DESCRIPTION NEEDLE... -- COMMAND...: COMMAND must fail and stderr contain every NEEDLE.
expect_failure() {
  local what=$1; shift
  local needles=()
  while [ "$1" != "--" ]; do needles+=("$1"); shift; done
  shift
  if "$@" >/dev/null 2>"$dir/err"; then
    echo "FAIL: $what: exit status 0" >&2; failures=$((failures + 1)); return
  fi
  for needle in "${needles[@]}"; do
    if ! grep -qF -- "$needle" "$dir/err"; then
      echo "FAIL: $what: stderr does not name '$needle': $(head -c 300 "$dir/err")" >&2; failures=$((failures + 1))
    fi
  done
}
run() { "$bin" run "$1" --results "$dir/results" --plots "$dir/plots" --no-render; }
gen() { "$bin" generate --max-tokens 2 --no-timers "$@"; }

# Scenarios: missing, empty, malformed TOML, values out of range.
tiny=Tests/Fixtures/scenarios/tiny.toml
: >"$dir/empty.toml"
printf 'name = "t"\n[primary\npreset = "tiny-primary"\n' >"$dir/malformed.toml"
sed 's/^gammas = .*/gammas = [0, 2]/' "$tiny" >"$dir/gamma0.toml"
sed 's/^alphas = .*/alphas = [0.5, 1.5]/' "$tiny" >"$dir/alpha15.toml"
grep -q "gammas = \[0, 2\]" "$dir/gamma0.toml" && grep -q "alphas = \[0.5, 1.5\]" "$dir/alpha15.toml" \
  || { echo "FAIL: could not derive the bad scenarios from $tiny" >&2; exit 1; }
expect_failure "missing scenario" "$dir/missing.toml" -- run "$dir/missing.toml"
expect_failure "empty scenario" "$dir/empty.toml" "primary" -- run "$dir/empty.toml"
expect_failure "malformed scenario" "$dir/malformed.toml" "not valid TOML" "line 2" -- run "$dir/malformed.toml"
expect_failure "gamma = 0" "$dir/gamma0.toml" "sweep.gammas[0]" "got 0" -- run "$dir/gamma0.toml"
expect_failure "alpha = 1.5" "$dir/alpha15.toml" "sweep.alphas[1]" "got 1.5" -- run "$dir/alpha15.toml"
expect_failure "generate --scenario malformed" "$dir/malformed.toml" "not valid TOML" -- \
  gen --scenario "$dir/malformed.toml"

# Truncated checkpoints (safetensors): inside the 8-byte length, inside the JSON header,
# inside the tensor data; as a primary, a router and a scenario's primary checkpoint.
model=Tests/Fixtures/tiny_gqa.safetensors
gen --primary-checkpoint "$model" --strategy primary >/dev/null 2>&1 \
  || { echo "FAIL: the intact checkpoint $model does not load" >&2; exit 1; }
head -c 5 "$model" >"$dir/cut_length.safetensors"
head -c 300 "$model" >"$dir/cut_header.safetensors"
head -c 10000 "$model" >"$dir/cut_data.safetensors"
expect_failure "checkpoint cut in its length" "$dir/cut_length.safetensors" "truncated" -- \
  gen --strategy primary --primary-checkpoint "$dir/cut_length.safetensors"
expect_failure "checkpoint cut in its header" "$dir/cut_header.safetensors" "truncated" -- \
  gen --strategy primary --primary-checkpoint "$dir/cut_header.safetensors"
expect_failure "checkpoint cut in its data" "$dir/cut_data.safetensors" "truncated" -- \
  gen --strategy primary --primary-checkpoint "$dir/cut_data.safetensors"
expect_failure "missing checkpoint" "$dir/none.safetensors" -- \
  gen --strategy primary --primary-checkpoint "$dir/none.safetensors"
expect_failure "router checkpoint cut in its header" "$dir/cut_header.safetensors" "truncated" -- \
  gen --strategy speed --policy router --router-checkpoint "$dir/cut_header.safetensors"
sed "s|^preset = \"tiny-primary\"|checkpoint = \"$dir/cut_data.safetensors\"|" "$tiny" >"$dir/cut.toml"
grep -q "cut_data.safetensors" "$dir/cut.toml" || { echo "FAIL: could not write $dir/cut.toml" >&2; exit 1; }
expect_failure "scenario with a truncated checkpoint" "$dir/cut_data.safetensors" "truncated" -- run "$dir/cut.toml"

# Bad option values.
expect_failure "--gamma 0" "--gamma" "got 0" -- gen --gamma 0
expect_failure "--gamma-max 0" "--gamma-max" -- gen --gamma-max 0
expect_failure "--temperature -1" "--temperature" "-1" -- gen --temperature=-1
expect_failure "--max-tokens abc" "--max-tokens" "abc" -- "$bin" generate --max-tokens abc
expect_failure "--max-tokens 0" "--max-tokens" -- "$bin" generate --max-tokens 0
expect_failure "--top-p 0" "--top-p" -- gen --top-p 0
expect_failure "--top-k -2" "--top-k" -- gen --top-k=-2
expect_failure "--p-min 2" "--p-min" -- gen --p-min 2
expect_failure "--oracle-alpha 1.5" "--oracle-alpha" "1.5" -- gen --strategy speed --oracle-alpha 1.5
expect_failure "--oracle-sampling bogus" "--oracle-sampling" "bogus" -- \
  gen --strategy speed --oracle-alpha 0.8 --oracle-sampling bogus
# A results path that is a file: the run names it and exits non-zero before any work.
: >"$dir/a-file"
expect_failure "results path is a file" "$dir/a-file" "cannot create the directory" -- \
  "$bin" run "$tiny" --results "$dir/a-file" --plots "$dir/plots" --no-render
expect_failure "--strategy fast" "--strategy" "fast" -- gen --strategy fast
expect_failure "--max-tokens past max_context" "--max-tokens" "max_context" -- gen --max-tokens 5000

[ "$failures" -eq 0 ] || { echo "bad inputs: $failures failure(s)" >&2; exit 1; }
echo "bad inputs: missing/empty/malformed/out-of-range scenarios, truncated checkpoints and bad options fail clearly"
