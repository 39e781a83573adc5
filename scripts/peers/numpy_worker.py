"""bench-peers worker: a numpy forward pass of a llama-architecture GGUF (see protocol.py).

Weights dequantized to F32 at load (gguf-py), stored [in, out] contiguous (q/k/v and gate/up
fused), so every product is one OpenBLAS sgemm of the block's rows; KV cache preallocated.
Rotary embeddings rotate adjacent pairs, as llama.cpp does on the converter-permuted q/k rows:
an implementation independent of the engine's, so its logits check both the engine and the
GGUF export. Threads: OPENBLAS_NUM_THREADS, set by the driver before numpy loads (the thread
count OpenBLAS reports is printed in the ready line).
"""
import argparse
import sys

import numpy as np
import gguf
from threadpoolctl import threadpool_info

from protocol import serve


class NumpyLlama:
    def __init__(self, path, capacity, max_tokens):
        reader = gguf.GGUFReader(path)

        def meta(key, default=None):
            field = reader.fields.get(key)
            return default if field is None else field.contents()

        if meta("general.architecture") != "llama":
            raise SystemExit(f"numpy worker: {path}: general.architecture is not 'llama'")
        tensors = {t.name: t for t in reader.tensors}

        def load(name):
            t = tensors[name]
            values = gguf.quants.dequantize(t.data, t.tensor_type)
            return np.ascontiguousarray(values.reshape([int(x) for x in reversed(t.shape)]), dtype=np.float32)

        d = self.width = int(meta("llama.embedding_length"))
        self.layers = int(meta("llama.block_count"))
        heads = self.heads = int(meta("llama.attention.head_count"))
        self.kv_heads = int(meta("llama.attention.head_count_kv", heads))
        hd = self.head_dim = d // heads
        self.eps = float(meta("llama.attention.layer_norm_rms_epsilon", 1e-5))
        theta = float(meta("llama.rope.freq_base", 10000.0))
        self.embedding = load("token_embd.weight")
        self.vocabulary = self.embedding.shape[0]
        head = load("output.weight") if "output.weight" in tensors else self.embedding
        self.head_t = np.ascontiguousarray(head.T)
        self.output_norm = load("output_norm.weight")
        self.blocks = []
        for i in range(self.layers):
            def w(name):
                return load(f"blk.{i}.{name}.weight")
            qkv = np.concatenate([w("attn_q"), w("attn_k"), w("attn_v")], axis=0)
            gate_up = np.concatenate([w("ffn_gate"), w("ffn_up")], axis=0)
            self.blocks.append({
                "attn_norm": w("attn_norm"), "qkv_t": np.ascontiguousarray(qkv.T),
                "o_t": np.ascontiguousarray(w("attn_output").T), "ffn_norm": w("ffn_norm"),
                "gate_up_t": np.ascontiguousarray(gate_up.T), "down_t": np.ascontiguousarray(w("ffn_down").T),
            })
        self.ffn = self.blocks[0]["down_t"].shape[0]
        self.capacity = min(capacity, int(meta("llama.context_length", capacity)))
        self.max_tokens = max_tokens
        shape = (self.layers, self.kv_heads, self.capacity, hd)
        self.keys = np.zeros(shape, np.float32)
        self.values = np.zeros(shape, np.float32)
        inverse = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
        angles = np.arange(self.capacity, dtype=np.float64)[:, None] * inverse[None, :]
        self.cos = np.cos(angles).astype(np.float32)[:, None, :]
        self.sin = np.sin(angles).astype(np.float32)[:, None, :]
        self.length = 0
        self.staged = None
        self.logits = None

    def rms(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x, start):
        n = x.shape[0]
        c, s = self.cos[start:start + n], self.sin[start:start + n]
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * c - odd * s
        out[..., 1::2] = even * s + odd * c
        return out

    def prepare(self, tokens):
        self.staged = np.asarray(tokens, dtype=np.int64)

    def run(self):
        tokens, start = self.staged, self.length
        n, hd, heads, kv_heads = len(tokens), self.head_dim, self.heads, self.kv_heads
        group, q_width, kv_width, end = heads // kv_heads, heads * self.head_dim, kv_heads * self.head_dim, start + n
        scale = np.float32(1 / np.sqrt(hd))
        masked = np.arange(end)[None, :] > (start + np.arange(n))[:, None]  # [n, end]: future positions
        x = self.embedding[tokens]
        for i, block in enumerate(self.blocks):
            h = self.rms(x, block["attn_norm"]) @ block["qkv_t"]
            q = self.rope(h[:, :q_width].reshape(n, heads, hd), start)
            k = self.rope(h[:, q_width:q_width + kv_width].reshape(n, kv_heads, hd), start)
            v = h[:, q_width + kv_width:].reshape(n, kv_heads, hd)
            self.keys[i, :, start:end] = k.transpose(1, 0, 2)
            self.values[i, :, start:end] = v.transpose(1, 0, 2)
            keys, values = self.keys[i, :, :end], self.values[i, :, :end]  # [kv_heads, end, hd]
            q = q.reshape(n, kv_heads, group, hd).transpose(1, 2, 0, 3)  # [kv_heads, group, n, hd]
            scores = (q @ keys[:, None].transpose(0, 1, 3, 2)) * scale  # [kv_heads, group, n, end]
            scores[..., masked] = -np.inf
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            attention = (scores @ values[:, None]).transpose(2, 0, 1, 3).reshape(n, q_width)
            x = x + attention @ block["o_t"]
            gate_up = self.rms(x, block["ffn_norm"]) @ block["gate_up_t"]
            gate, up = gate_up[:, :self.ffn], gate_up[:, self.ffn:]
            x = x + (gate / (1 + np.exp(-gate)) * up) @ block["down_t"]
        self.logits = self.rms(x, self.output_norm) @ self.head_t
        self.length = end

    def truncate(self, length):
        self.length = min(self.length, length)

    def logits_last(self):
        return self.logits[-1].tolist()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="GGUF file")
    parser.add_argument("--threads", type=int, required=True, help="(checked against OPENBLAS_NUM_THREADS)")
    parser.add_argument("--capacity", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    model = NumpyLlama(args.model, args.capacity, args.max_tokens)
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    blas_threads = blas[0]["num_threads"] if blas else "unknown"
    blas_name = f"{blas[0].get('internal_api')}-{blas[0].get('version')}" if blas else "unknown"
    if blas_threads != args.threads:
        print(f"numpy worker: warning: OpenBLAS reports {blas_threads} threads, asked for {args.threads}",
              file=sys.stderr)
    print(f"numpy worker: {args.model}, numpy {np.__version__}, {blas_name} with {blas_threads} thread(s)",
          file=sys.stderr)
    serve(model, {"vocabulary": model.vocabulary, "threads": blas_threads, "numpy": np.__version__,
                  "blas": blas_name}, args.seed)


if __name__ == "__main__":
    main()
