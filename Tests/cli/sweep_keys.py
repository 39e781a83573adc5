"""Prints the reproducible columns of every row of a sweep_runs.csv, by column name, sorted.

Timings differ between runs; the counters must not. Used by resume.sh and faults.sh to compare a
resumed run with an uninterrupted one.
"""
import csv
import sys

COLUMNS = ["strategy", "policy", "secondary", "gamma", "alpha", "context", "threads", "repeat", "tokens", "rounds",
           "drafted", "accepted", "drafted_by_position", "judged_by_position", "accepted_by_position",
           "full_round_histogram", "draft_length_histogram", "baseline_first"]

with open(sys.argv[1], newline="") as f:
    rows = ["|".join(row[c] for c in COLUMNS) for row in csv.DictReader(f)]
print("\n".join(sorted(rows)))
