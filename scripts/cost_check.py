#!/usr/bin/env python3
"""Costs of a finished run against its calibration alone, per sweep run.

For every row of RESULTS/sweep_runs.csv: the measured primary-alone baseline and strategy times
over what calibration.csv prices them at, using the run's own rounds and draft lengths (so
acceptance modelling is out of the comparison). Prints medians with 10th/90th percentiles:
a ratio below 1 means the run was faster than the calibration says.

usage: scripts/cost_check.py results/NAME [results/OTHER ...]
"""
import csv
import statistics
import sys


def check(directory):
    with open(directory + "/calibration.csv", newline="") as f:
        terms = {(r["model"], r["quantity"], r["term"]): float(r["estimate_ns"]) for r in csv.DictReader(f)}
    with open(directory + "/sweep_runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))

    def cost(model, quantity, tokens, context):
        """The fitted block cost a_n + b_context c + b_n_context n c + b_decode_context [n = 1] c (None
        when n was not profiled)."""
        level = terms.get((model, quantity, f"a_{tokens}"))
        if level is None:
            return None
        return (level + terms.get((model, quantity, "b_context"), 0) * context
                + terms.get((model, quantity, "b_n_context"), 0) * tokens * context
                + (terms.get((model, quantity, "b_decode_context"), 0) * context if tokens == 1 else 0))

    largest = max(int(k[2][2:]) for k in terms if k[:2] == ("primary", "block_forward") and k[2].startswith("a_"))
    token_overhead = terms.get(("primary", "token_overhead", "mean"), 0)
    ratios = {"baseline": [], "strategy": [], "speedup over-prediction": []}
    for run in runs:
        start, tokens = int(run["context"]), int(run["tokens"])
        baseline = sum(cost("primary", "block_forward", 1, start + i) for i in range(tokens)) + token_overhead * tokens
        secondary, rounds, middle = run["secondary"], int(run["rounds"]), start + tokens / 2
        lengths = [int(x) for x in run["draft_length_histogram"].split(";")] if run["draft_length_histogram"] else []
        strategy = rounds * terms.get((secondary, "round_overhead", "mean"), 0)
        for length, count in enumerate(lengths):
            verify = cost("primary", "block_forward", length + 1, middle)
            strategy += count * (verify if verify is not None else cost("primary", "block_forward", largest, middle))
            if length >= 1:
                strategy += count * ((cost(secondary, "block_forward_cold", 1, middle) or 0)
                                     + (length - 1) * (cost(secondary, "block_forward", 1, middle) or 0))
        if run["strategy"] == "tandem-speed":
            strategy += (rounds * terms.get((secondary, "tandem_projection", "p0"), 0)
                         + tokens * terms.get((secondary, "tandem_projection", "p1_per_token"), 0))
        measured_baseline, measured_strategy = float(run["baseline_ns"]), float(run["strategy_ns"])
        ratios["baseline"].append(measured_baseline / baseline)
        ratios["strategy"].append(measured_strategy / strategy)
        ratios["speedup over-prediction"].append((baseline / strategy) / (measured_baseline / measured_strategy))
    for name, values in ratios.items():
        values.sort()
        print(f"{directory}: measured / calibrated {name}: median {statistics.median(values):.3f} "
              f"(p10 {values[len(values) // 10]:.3f}, p90 {values[len(values) * 9 // 10]:.3f}, {len(values)} runs)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        check(path.rstrip("/"))
