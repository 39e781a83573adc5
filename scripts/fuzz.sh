#!/usr/bin/env bash
# Runs every fuzz target of `tandem-fuzz` (libFuzzer + AddressSanitizer) for SECONDS each,
# starting from Tests/Fuzz/seeds/TARGET, growing the corpus in .build/fuzz-corpus/TARGET.
# A crash stops the run with the input saved in .build/fuzz-crashes/TARGET/ (commit it to
# Tests/Fuzz/regressions/TARGET/ once fixed). Prints one line per target: executions, corpus.
# Usage: scripts/fuzz.sh BINARY SECONDS [TARGET...]
set -euo pipefail
bin=$1; seconds=$2; shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors scenario sweep-csv gguf tokenizer)
summary=.build/fuzz-summary.csv
echo "target,seconds,executions,executions_per_second,corpus_files,corpus_bytes,new_units" >"$summary"
for target in "${targets[@]}"; do
  corpus=.build/fuzz-corpus/$target crashes=.build/fuzz-crashes/$target
  mkdir -p "$corpus" "$crashes"
  log=.build/fuzz-$target.log
  echo "fuzz: $target for ${seconds}s..." >&2
  # Leaks inside TOMLKit and Foundation are not ours (Tests/Sanitizers/lsan.supp). TOMLKit leaks
  # on every parse, which would make libFuzzer run a leak check after every scenario input (25x
  # slower), so that target fuzzes without leak checks.
  leaks=1; [ "$target" = scenario ] && leaks=0
  if ! TANDEM_FUZZ_TARGET=$target LSAN_OPTIONS=suppressions=Tests/Sanitizers/lsan.supp \
      "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -max_len=65536 -detect_leaks=$leaks \
      -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "Tests/Fuzz/seeds/$target" >"$log" 2>&1; then
    echo "FAIL: $target crashed; the input is in $crashes/, the report in $log:" >&2
    grep -E "ERROR|panic|Fatal error|SUMMARY|Test unit written" "$log" | head -20 >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  echo "$target,$seconds,$runs,$rate,$files,$bytes,$new" >>"$summary"
done
column -s, -t "$summary"
