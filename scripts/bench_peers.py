#!/usr/bin/env python3
"""`make bench-peers`: the engine, llama.cpp and numpy timed side by side in one interleaved run.

For each model (P150 F32 and SmolLM2-135M Q4_1), each thread count and each peer, one worker
process loads the model once and answers timing commands (scripts/peers/protocol.py; the engine
is `tandem bench-serve`). Every round visits every peer x model x threads x block size in a
seeded shuffled order, so machine drift hits all alike: the visited worker is resumed (all
others are SIGSTOPped, so no idle thread of one peer spins or polls while another is timed),
runs --repeats + 1 passes of a block of n tokens at --context tokens of KV cache, and the first
pass (cold after the switch) is dropped. Warm-up rounds are not recorded.

Before timing, each model's last-position logits for one token sequence are compared across the
peers (a check that all three run the same model, the exported GGUF included).

Writes, atomically, --out/peers.csv (RFC 4180: peer, model, threads, tokens, context, median_ns,
p10_ns, p90_ns, ratio_to_one_token, ratio_to_engine) and --out/peers.json (versions, CPU, date,
settings, the logits check), and prints a table. Progress goes to stderr.
"""
import argparse
import csv
import datetime
import io
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ["engine", "llama.cpp", "numpy"]
COLUMNS = ["peer", "model", "threads", "tokens", "context", "median_ns", "p10_ns", "p90_ns",
           "ratio_to_one_token", "ratio_to_engine"]


def log(message):
    print(f"bench-peers: {message}", file=sys.stderr, flush=True)


class Worker:
    """One peer's process for one model and thread count, speaking the line protocol."""

    def __init__(self, peer, model, threads, argv, env, log_path):
        self.peer, self.model, self.threads, self.log_path = peer, model, threads, log_path
        self.log_file = open(log_path, "w")
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log_file, text=True, env=env, bufsize=1)
        self.ready = self.read_line("loading")
        if not self.ready.startswith("ready"):
            self.fail(f"expected a ready line, got {self.ready[:200]!r}")
        self.paused = False

    @property
    def name(self):
        return f"{self.peer}/{self.model}/t{self.threads}"

    def fail(self, message):
        self.log_file.flush()
        with open(self.log_path) as f:
            tail = "".join(f.readlines()[-15:])
        raise SystemExit(f"bench-peers: error: {self.name}: {message}\n--- {self.log_path} (tail) ---\n{tail}")

    def read_line(self, doing):
        line = self.process.stdout.readline()
        if not line:
            self.fail(f"the worker exited while {doing} (status {self.process.poll()})")
        return line.strip()

    def request(self, command):
        self.resume()
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.read_line(f"answering {command[:40]!r}")
        if not answer.startswith("ok"):
            self.fail(f"{command[:40]!r} answered {answer[:200]!r}")
        return answer.split()[1:]

    def forward(self, tokens, context, repeats):
        return [int(x) for x in self.request(f"forward {tokens} {context} {repeats}")]

    def logits(self, tokens):
        return [float(x) for x in self.request("logits " + " ".join(map(str, tokens)))]

    def pause(self):
        if not self.paused:
            os.kill(self.process.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.paused:
            os.kill(self.process.pid, signal.SIGCONT)
            self.paused = False

    def close(self):
        self.resume()
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.process.kill()
        self.log_file.close()


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def engine_weights_mode(args):
    """How the engine holds the Q4_1 model: `stored` (kept quantized, the default) or `f32` (--engine-f32)."""
    return "f32" if args.engine_f32 else "stored"


def percentile(values, fraction):
    """Linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def atomic_write(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(temporary, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise SystemExit(f"bench-peers: error: cannot write {path}: {error}")
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit():
    head = command_output(["git", "-C", HERE, "rev-parse", "HEAD"]).strip() or "unknown"
    dirty = command_output(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"]).strip()
    return head + ("+dirty" if dirty else "")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tandem", default=".build/release/tandem", help="the tandem binary")
    parser.add_argument("--python", default=sys.executable, help="python of the venv with llama_cpp, numpy, gguf")
    parser.add_argument("--p150-gguf", required=True, help="P150 exported by `tandem export-gguf` (F32)")
    parser.add_argument("--p150-seed", type=int, default=1, help="seed P150 was exported with")
    parser.add_argument("--smollm2-gguf", required=True, help="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--rounds", type=int, help="measured rounds (default 15, 3 with --quick)")
    parser.add_argument("--warmup", type=int, help="warm-up rounds, not recorded (default 2, 1 with --quick)")
    parser.add_argument("--repeats", type=int, help="recorded passes per visit (default 3, 2 with --quick)")
    parser.add_argument("--engine-backend", default="packed", help="--backend of tandem bench-serve")
    parser.add_argument("--engine-f32", action="store_true",
                        help="the engine dequantizes the Q4_1 model to F32 (default: --weights stored)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the visiting order and of the tokens")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and repeats (a check, not a result)")
    parser.add_argument("--out", default="results/bench-peers")
    parser.add_argument("--log-dir", default=".build/bench-peers/logs", help="the workers' stderr")
    args = parser.parse_args()
    args.rounds = args.rounds if args.rounds is not None else (3 if args.quick else 15)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    args.repeats = args.repeats if args.repeats is not None else (2 if args.quick else 3)
    for path, what in [(args.tandem, "--tandem"), (args.p150_gguf, "--p150-gguf"), (args.smollm2_gguf,
                                                                                       "--smollm2-gguf")]:
        if not os.path.exists(path):
            parser.error(f"{what} {path} does not exist")
    if min(args.threads) < 1 or min(args.tokens) < 1 or args.context < 0:
        parser.error("--threads and --tokens must be >= 1, --context >= 0")
    if 1 not in args.tokens:
        parser.error("--tokens must include 1 (ratio_to_one_token divides by it)")
    if args.rounds < 1 or args.warmup < 0 or args.repeats < 1:
        parser.error("--rounds and --repeats must be >= 1, --warmup >= 0")
    return args


def start_workers(args, weights_mode):
    """Every peer x model x threads worker, started one after another (each loads its model once)."""
    capacity = args.context + max(args.tokens) + 16
    max_tokens = max(max(args.tokens), 16)
    models = {
        "p150-f32": {"gguf": args.p150_gguf,
                     "engine": ["--primary-preset", "p150", "--seed", str(args.p150_seed)]},
        "smollm2-135m-q4_1": {"gguf": args.smollm2_gguf,
                              "engine": ["--primary-gguf", args.smollm2_gguf, "--seed", str(args.seed)]
                              + ["--weights", weights_mode]},
    }
    os.makedirs(args.log_dir, exist_ok=True)
    workers = []
    for model, spec in models.items():
        for threads in args.threads:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                       PYTHONPATH=os.path.join(HERE, "peers"))
            common = ["--capacity", str(capacity), "--max-tokens", str(max_tokens)]
            commands = {
                "engine": [args.tandem, "bench-serve", "--threads", str(threads), "--backend", args.engine_backend]
                + spec["engine"] + common,
                "llama.cpp": [args.python, os.path.join(HERE, "peers", "llama_cpp_worker.py"), "--model", spec["gguf"],
                              "--threads", str(threads), "--seed", str(args.seed)] + common,
                "numpy": [args.python, os.path.join(HERE, "peers", "numpy_worker.py"), "--model", spec["gguf"],
                          "--threads", str(threads), "--seed", str(args.seed)] + common,
            }
            for peer in PEERS:
                log_path = os.path.join(args.log_dir, f"{peer}-{model}-t{threads}.log")
                log(f"starting {peer} for {model} with {threads} thread(s) (log: {log_path})")
                started = time.monotonic()
                worker = Worker(peer, model, threads, commands[peer], env, log_path)
                log(f"  ready in {time.monotonic() - started:.1f} s: {worker.ready}")
                worker.pause()
                workers.append(worker)
    return workers


def check_logits(workers, seed):
    """Per model: the peers' last-position logits for one seeded sequence, against the engine's."""
    generator = random.Random(seed)
    checks = {}
    for model in sorted({w.model for w in workers}):
        group = {w.peer: w for w in workers if w.model == model and w.threads == min(x.threads for x in workers)}
        vocabulary = int(dict(f.split("=") for f in group["engine"].ready.split()[1:])["vocabulary"])
        tokens = [generator.randrange(vocabulary) for _ in range(24)]
        logits = {}
        for peer, worker in group.items():
            logits[peer] = worker.logits(tokens)
            worker.pause()
        reference = logits["engine"]
        scale = max(abs(x) for x in reference)
        checks[model] = {}
        for peer in PEERS[1:]:
            difference = max(abs(a - b) for a, b in zip(logits[peer], reference))
            argmax = max(range(len(reference)), key=reference.__getitem__)
            same = max(range(len(reference)), key=logits[peer].__getitem__) == argmax
            checks[model][peer] = {"max_abs_difference": difference, "max_abs_engine_logit": scale,
                                   "same_argmax": same}
            log(f"logits check {model}: {peer} vs engine: max |difference| {difference:.3g} "
                f"(largest |logit| {scale:.3g}), same argmax: {same}")
            if not same and difference > 0.1 * scale:
                raise SystemExit(f"bench-peers: error: {peer} and the engine disagree on {model} "
                                 f"(max |logit difference| {difference:.3g}): not the same model")
    return checks


def measure(args, workers):
    """samples[(peer, model, threads, tokens)]: nanoseconds, from every measured round."""
    generator = random.Random(args.seed)
    visits = [(w, n) for w in workers for n in args.tokens]
    samples = {(w.peer, w.model, w.threads, n): [] for w, n in visits}
    total = args.warmup + args.rounds
    started = time.monotonic()
    for round_index in range(total):
        generator.shuffle(visits)
        for worker, n in visits:
            times = worker.forward(n, args.context, args.repeats + 1)[1:]  # the first pass after a switch is cold
            worker.pause()
            if round_index >= args.warmup:
                samples[(worker.peer, worker.model, worker.threads, n)].extend(times)
        elapsed = time.monotonic() - started
        kind = "warm-up" if round_index < args.warmup else "measured"
        log(f"round {round_index + 1}/{total} ({kind}) done, {elapsed:.0f} s elapsed, "
            f"about {elapsed / (round_index + 1) * (total - round_index - 1):.0f} s to go")
    return samples


def summarize(args, samples):
    rows = []
    medians = {key: statistics.median(values) for key, values in samples.items()}
    for (peer, model, threads, n), values in sorted(samples.items(),
                                                    key=lambda kv: (kv[0][1], kv[0][2], PEERS.index(kv[0][0]),
                                                                    kv[0][3])):
        median = medians[(peer, model, threads, n)]
        rows.append({
            "peer": peer, "model": model, "threads": threads, "tokens": n, "context": args.context,
            "median_ns": round(median), "p10_ns": round(percentile(values, 0.1)),
            "p90_ns": round(percentile(values, 0.9)),
            "ratio_to_one_token": f"{median / medians[(peer, model, threads, 1)]:.4f}",
            "ratio_to_engine": f"{median / medians[('engine', model, threads, n)]:.4f}",
        })
    return rows


def table(rows, tokens):
    by_key = {(r["peer"], r["model"], r["threads"], r["tokens"]): r for r in rows}
    lines = []
    for model in sorted({r["model"] for r in rows}):
        for threads in sorted({r["threads"] for r in rows}):
            lines.append(f"{model}, {threads} thread(s): median ms per call (ratio to 1 token) [ratio to engine]")
            lines.append("  " + "peer".ljust(10) + "".join(f"n={n}".rjust(24) for n in tokens))
            for peer in PEERS:
                cells = []
                for n in tokens:
                    r = by_key[(peer, model, threads, n)]
                    cells.append(f"{r['median_ns'] / 1e6:7.2f} ({float(r['ratio_to_one_token']):4.2f}) "
                                 f"[{float(r['ratio_to_engine']):4.2f}]")
                lines.append("  " + peer.ljust(10) + "".join(c.rjust(24) for c in cells))
    return "\n".join(lines)


def versions(args, workers):
    probe = ("import importlib.metadata as m, json, llama_cpp, numpy; from threadpoolctl import threadpool_info; "
             "print(json.dumps({'llama_cpp_python': m.version('llama-cpp-python'), 'numpy': numpy.__version__, "
             "'gguf': m.version('gguf'), 'threadpoolctl': m.version('threadpoolctl'), "
             "'llama_cpp_system_info': llama_cpp.llama_print_system_info().decode(errors='replace').strip(), "
             "'numpy_blas': [{k: p.get(k) for k in ('internal_api', 'version', 'architecture')} "
             "for p in threadpool_info() if p.get('user_api') == 'blas']}))")
    try:
        found = json.loads(command_output([args.python, "-c", probe]) or "{}")
    except json.JSONDecodeError:
        found = {}
    found["python"] = platform.python_version()
    found["tandem_commit"] = git_commit()
    found["ready_lines"] = {w.name: w.ready for w in workers}
    return found


def main():
    args = parse_arguments()
    started = datetime.datetime.now(datetime.timezone.utc)
    weights_mode = engine_weights_mode(args)
    log(f"engine weights for the Q4_1 model: --weights {weights_mode} ("
        + ("kept quantized)" if weights_mode == "stored" else "dequantized to F32)"))
    workers = start_workers(args, weights_mode)
    try:
        checks = check_logits(workers, args.seed)
        log(f"timing: {len(workers)} workers x {len(args.tokens)} block sizes, {args.warmup} warm-up + "
            f"{args.rounds} measured rounds, {args.repeats} recorded passes per visit, context {args.context}")
        samples = measure(args, workers)
        metadata_versions = versions(args, workers)
    finally:
        for worker in workers:
            worker.close()
    rows = summarize(args, samples)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(os.path.join(args.out, "peers.csv"), text.getvalue())
    metadata = {
        "tool": "scripts/bench_peers.py", "command": " ".join(sys.argv),
        "start_time": started.isoformat(timespec="seconds"),
        "end_time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": " ".join(platform.uname()[:3] + platform.uname()[4:5]), "cpu": cpu_model(),
        "cpu_count": os.cpu_count(), "threads": args.threads, "tokens": args.tokens, "context": args.context,
        "rounds": args.rounds, "warmup": args.warmup, "repeats_per_visit": args.repeats, "quick": args.quick,
        "seed": args.seed, "p150_seed": args.p150_seed, "engine_backend": args.engine_backend,
        "engine_weights_q4_1": weights_mode,
        "models": {"p150-f32": args.p150_gguf, "smollm2-135m-q4_1": args.smollm2_gguf},
        "llama_cpp_settings": "n_threads = n_threads_batch = threads, default context parameters (F16 KV cache), "
                              "logits for every position, llama_memory_seq_rm between passes",
        "numpy_settings": "F32 dequantized weights [in, out], OPENBLAS_NUM_THREADS = threads",
        "versions": metadata_versions, "logits_check": checks,
    }
    atomic_write(os.path.join(args.out, "peers.json"), json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    print(table(rows, args.tokens))
    log(f"wrote {args.out}/peers.csv and {args.out}/peers.json")


if __name__ == "__main__":
    main()
