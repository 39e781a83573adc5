#!/usr/bin/env python3
"""Costs of a finished run against its calibration alone, per sweep run.

For every row of RESULTS/sweep_runs.csv: the measured primary-alone baseline and strategy times
over what calibration.csv prices them at, using the run's own rounds and draft lengths (so
acceptance modelling is out of the comparison). Prints medians with 10th/90th percentiles:
a ratio below 1 means the run was faster than the calibration says.

With --by-gamma, also per (strategy, secondary, gamma) of the fixed policy: the measured strategy
time over the same rounds priced by the run's own point probes (verify block = local one-token
step x local block ratio; drafts = local cold + warm secondary steps; calibrated round overhead
and tandem projection), and the drafts' share of that price. A ratio that rises above 1 at small
gamma and falls below 1 at large gamma says the verify blocks inside a strategy run cost more
than alone, and the drafts less than their probes.

usage: scripts/cost_check.py [--by-gamma] results/NAME [results/OTHER ...]
"""
import csv
import statistics
import sys


def load(directory):
    """calibration.csv as {(model, quantity, term): estimate_ns} and sweep_runs.csv's rows."""
    with open(directory + "/calibration.csv", newline="") as f:
        terms = {(r["model"], r["quantity"], r["term"]): float(r["estimate_ns"]) for r in csv.DictReader(f)}
    with open(directory + "/sweep_runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    return terms, runs


def check(directory):
    terms, runs = load(directory)

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


def by_gamma(directory):
    """Measured strategy time over the point probes' price, per (strategy, secondary, gamma)."""
    terms, runs = load(directory)
    runs = [r for r in runs if r["policy"] == "fixed"]
    groups = {}
    for run in runs:
        secondary, rounds, tokens = run["secondary"], int(run["rounds"]), int(run["tokens"])
        lengths = [int(x) for x in run["draft_length_histogram"].split(";")] if run["draft_length_histogram"] else []
        verify = float(run["local_primary_one_ns"]) * float(run["local_block_ratio"])
        cold, warm = float(run["local_secondary_cold_ns"]), float(run["local_secondary_warm_ns"])
        verifies = sum(count * verify for length, count in enumerate(lengths) if length >= 1)
        drafts = sum(count * (cold + (length - 1) * warm) for length, count in enumerate(lengths) if length >= 1)
        overhead = rounds * terms.get((secondary, "round_overhead", "mean"), 0)
        if run["strategy"] == "tandem-speed":
            overhead += (rounds * terms.get((secondary, "tandem_projection", "p0"), 0)
                         + tokens * terms.get((secondary, "tandem_projection", "p1_per_token"), 0))
        price = verifies + drafts + overhead
        key = (run["strategy"], secondary, int(run["gamma"]))
        groups.setdefault(key, []).append((float(run["strategy_ns"]) / price, drafts / price))
    print(f"{directory}: measured strategy / point-probe price, per gamma (median over runs; drafts' share)")
    for key in sorted(groups):
        ratios = [r for r, _ in groups[key]]
        shares = [s for _, s in groups[key]]
        print(f"  {key[0]:>13} {key[1]:>10} gamma {key[2]:>2}: {statistics.median(ratios):.3f} "
              f"(drafts {statistics.median(shares):.2f}, {len(ratios)} runs)")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--by-gamma"]
    if not arguments:
        sys.exit(__doc__)
    for path in arguments:
        check(path.rstrip("/"))
        if "--by-gamma" in sys.argv:
            by_gamma(path.rstrip("/"))
