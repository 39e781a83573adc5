"""bench-peers worker: llama.cpp through llama-cpp-python's low-level API (see protocol.py).

One context with n_threads = n_threads_batch = --threads, default context parameters otherwise
(F16 KV cache, flash attention as llama.cpp decides). A block of n tokens is one llama_decode
with logits requested for every position (as speculative verification needs); the batch is
filled before the timer starts and llama_synchronize ends the timed region. Between repeats
llama_memory_seq_rm removes the block from the KV cache, so the context stays fixed.
"""
import argparse
import ctypes
import sys

import llama_cpp as L

from protocol import serve


class LlamaModel:
    def __init__(self, path, threads, capacity, max_tokens):
        L.llama_backend_init()
        model_params = L.llama_model_default_params()
        model_params.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(path.encode(), model_params)
        if not self.model:
            raise SystemExit(f"llama.cpp worker: llama.cpp cannot load {path} (its log above says why)")
        context_params = L.llama_context_default_params()
        context_params.n_ctx = capacity
        context_params.n_batch = max_tokens
        context_params.n_ubatch = max_tokens
        context_params.n_seq_max = 1
        context_params.n_threads = threads
        context_params.n_threads_batch = threads
        context_params.no_perf = True
        self.context = L.llama_init_from_model(self.model, context_params)
        if not self.context:
            raise SystemExit(f"llama.cpp worker: cannot create a context for {path}")
        self.memory = L.llama_get_memory(self.context)
        self.vocabulary = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))
        self.capacity = L.llama_n_ctx(self.context)
        self.max_tokens = max_tokens
        self.batch = L.llama_batch_init(max_tokens, 0, 1)
        self.length = 0
        self.staged = 0

    def prepare(self, tokens):
        batch = self.batch
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = self.length + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1
        self.staged = len(tokens)

    def run(self):
        status = L.llama_decode(self.context, self.batch)
        L.llama_synchronize(self.context)
        if status != 0:
            raise SystemExit(f"llama.cpp worker: llama_decode returned {status}")
        self.length += self.staged

    def truncate(self, length):
        if length < self.length:
            if not L.llama_memory_seq_rm(self.memory, 0, length, -1):
                raise SystemExit(f"llama.cpp worker: llama_memory_seq_rm(0, {length}, -1) failed")
            self.length = length

    def logits_last(self):
        row = L.llama_get_logits_ith(self.context, -1)
        return [row[i] for i in range(self.vocabulary)]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="GGUF file")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--capacity", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    model = LlamaModel(args.model, args.threads, args.capacity, args.max_tokens)
    info = L.llama_print_system_info().decode(errors="replace").replace(" ", "").replace("|", ",").strip(",")
    print(f"llama.cpp worker: {args.model}, {args.threads} thread(s); system info: {info}", file=sys.stderr)
    serve(model, {"vocabulary": model.vocabulary, "threads": args.threads, "llama_cpp_python": L.__version__},
          args.seed)


if __name__ == "__main__":
    main()
