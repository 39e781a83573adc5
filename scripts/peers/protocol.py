"""The line protocol every bench-peers worker speaks (the same as `tandem bench-serve`).

A worker prints `ready key=value ...` once its model is loaded, then answers each stdin line
with one stdout line:
  forward N CONTEXT REPEATS -> ok <ns> ...  (REPEATS timed passes of a block of N seeded random
                               tokens with exactly CONTEXT tokens in the KV cache; the block is
                               removed from the cache after each pass)
  logits T1 T2 ...          -> ok <logit> ...  (last position's logits, from an empty cache)
  quit                      -> exits (so does the end of stdin)
A bad command gets `error <message>`. Diagnostics go to stderr.
"""
import sys
import time


def serve(model, ready_fields, seed):
    """Runs the protocol on stdin/stdout for `model`, which provides: capacity, max_tokens,
    vocabulary, length (tokens in its cache), prepare(block) (untimed: stage a block),
    run() (the timed pass of the staged block, appended to the cache), truncate(length),
    logits_last() (the last pass's last-position logits)."""
    import random
    generator = random.Random(seed)
    prompt = [generator.randrange(model.vocabulary) for _ in range(model.capacity)]

    def feed(tokens):
        for start in range(0, len(tokens), model.max_tokens):
            model.prepare(tokens[start:start + model.max_tokens])
            model.run()

    def reply(line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    reply("ready " + " ".join(f"{k}={v}" for k, v in ready_fields.items()))
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command, arguments = words[0], words[1:]
        try:
            numbers = [int(w) for w in arguments]
        except ValueError:
            reply(f"error arguments must be integers (got {line.strip()[:80]!r})")
            continue
        if command == "quit":
            return
        if command == "forward":
            if len(numbers) != 3:
                reply("error usage: forward N CONTEXT REPEATS")
                continue
            n, context, repeats = numbers
            if not (1 <= n <= model.max_tokens and context >= 0 and context + n <= model.capacity and repeats >= 1):
                reply(f"error forward {n} {context} {repeats}: need 1 <= N <= {model.max_tokens}, "
                      f"CONTEXT + N <= {model.capacity}, REPEATS >= 1")
                continue
            if model.length > context:
                model.truncate(context)
            feed(prompt[model.length:context])
            times = []
            for _ in range(repeats):
                model.prepare([generator.randrange(model.vocabulary) for _ in range(n)])
                start = time.perf_counter_ns()
                model.run()
                times.append(time.perf_counter_ns() - start)
                model.truncate(context)
            reply("ok " + " ".join(map(str, times)))
        elif command == "logits":
            if not numbers or len(numbers) > model.capacity or not all(0 <= t < model.vocabulary for t in numbers):
                reply(f"error usage: logits T1 T2 ... (1 to {model.capacity} ids in 0..{model.vocabulary - 1})")
                continue
            model.truncate(0)
            feed(numbers)
            reply("ok " + " ".join(f"{x:.9g}" for x in model.logits_last()))
            model.truncate(0)
        else:
            reply(f"error unknown command {command!r} (forward, logits, quit)")
