#!/usr/bin/env python3
"""Independent float64 numpy forward pass of SmolLM2-135M-Instruct straight from its GGUF file.

Writes
  Tests/Fixtures/smollm2/reference.json     per-prompt token ids, top-20 logits and logsumexp of
                                            every position
  Tests/Fixtures/smollm2/last_logits.f32    the full logit vector (49152 values) of the last position
                                            of the first prompt, raw little-endian float32, no header

Reference: llama.cpp's llama graph semantics, re-implemented in float64 numpy on the tensors exactly
as stored in models/SmolLM2-135M-Instruct.Q4_1.gguf. Every tensor is dequantized with gguf-py's
gguf.quants.dequantize (Q8_0 token_embd, Q4_1 matrices, F32 norms) and widened to float64. A GGUF
matrix with ne = [in, out] is the numpy (out, in) array W and y = W @ x.
  h = token_embd[ids]
  per layer: a = rms_norm(h) * attn_norm; q, k, v = Wq a, Wk a, Wv a
             RoPE, llama.cpp NORMAL mode (the converter already permuted Q/K rows; not undone):
               adjacent pairs (x[2i], x[2i+1]) rotated by pos * base^(-2i / head_dim)
             causal softmax(q.k / sqrt(head_dim)) v; query head h reads KV head h // (9 / 3)
             h += Wo concat(heads)
             f = rms_norm(h) * ffn_norm; h += Wdown (silu(Wgate f) * Wup f)
  logits = token_embd @ (rms_norm(h) * output_norm)  (tied embeddings, no output.weight)
  rms_norm(x) = x / sqrt(mean(x^2) + eps) with eps = llama.attention.layer_norm_rms_epsilon as stored
  (the float32 1e-5, i.e. 9.999999747378752e-06); rope base = llama.rope.freq_base (1e5).
Prompt ids come from the Hugging Face `tokenizers` BPE built by make_tokenizer_fixture.py ("smollm"
pre-tokenizer, no BOS since tokenizer.ggml.add_bos_token is false, no chat template).

Output JSON schema (reference.json):
  {"source": str, "model": str,
   "config": {"layers", "width", "heads", "kv_heads", "head_dim", "ffn", "vocab", "rope_base",
              "rms_eps"},
   "top_k": 20,
   "prompts": [{"text": str, "ids": [int, ...],
                "positions": [{"top_ids": [int x 20], "top_logits": [float x 20] (descending),
                               "logsumexp": float}, ... one per token]}],
   "last_logits": {"prompt": 0, "file": "last_logits.f32", "count": 49152, "dtype": "float32 LE"},
   "greedy": {"prompt": 0, "ids": [int x 20], "text": str}}
Floats are full float64 reprs. Also prints a greedy 20-token continuation of the first prompt.

Run from the repository root: /tmp/fixvenv/bin/python Tests/Fixtures/make_smollm2_reference.py
(needs numpy, gguf, tokenizers; about a minute, ~2 GB RAM). Deterministic.
"""
import json
import os
import sys
import time

import numpy as np
import gguf

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_fixture as tokfix  # noqa: E402  (same directory; builds the reference tokenizer)

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = tokfix.MODEL
OUT_DIR = os.path.join(HERE, "smollm2")
JSON_PATH = os.path.join(OUT_DIR, "reference.json")
LOGITS_PATH = os.path.join(OUT_DIR, "last_logits.f32")
TOP_K = 20
GREEDY_STEPS = 20
LONG_PROMPT_TOKENS = 40

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    if n < 2:",
    "Once upon a time, there was a little",
    # exactly LONG_PROMPT_TOKENS tokens (checked below)
    "In 1969, Neil Armstrong walked on the Moon. Scientists say the Moon's surface is covered in fine "
    "dust, and astronauts couldn't easily brush it off their suits and gloves when they",
]


class Model:
    def __init__(self, path):
        reader = gguf.GGUFReader(path)

        def meta(key):
            return reader.get_field(key).contents()
        assert meta("general.architecture") == "llama"
        self.layers = int(meta("llama.block_count"))
        self.width = int(meta("llama.embedding_length"))
        self.heads = int(meta("llama.attention.head_count"))
        self.kv_heads = int(meta("llama.attention.head_count_kv"))
        self.ffn = int(meta("llama.feed_forward_length"))
        self.rope_base = float(meta("llama.rope.freq_base"))
        self.eps = float(meta("llama.attention.layer_norm_rms_epsilon"))
        self.head_dim = self.width // self.heads
        assert int(meta("llama.rope.dimension_count")) == self.head_dim
        self.w = {}
        for t in reader.tensors:
            arr = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float64)
            ne = [int(n) for n in t.shape]
            assert arr.shape == tuple(reversed(ne)), (t.name, arr.shape, ne)
            self.w[t.name] = arr
        assert "output.weight" not in self.w, "expected tied embeddings"
        self.vocab = self.w["token_embd.weight"].shape[0]
        half = self.head_dim // 2
        self.inv_freq = self.rope_base ** (-2.0 * np.arange(half, dtype=np.float64) / self.head_dim)

    def rms_norm(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x):
        """x: (T, heads, head_dim); NORMAL mode rotates adjacent pairs (x[2i], x[2i+1])."""
        t = x.shape[0]
        angle = np.arange(t, dtype=np.float64)[:, None] * self.inv_freq[None, :]  # (T, half)
        cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    def forward(self, ids, last_only=False):
        """Full causal pass; returns logits (T, vocab), or (vocab,) of the last position."""
        w, hd = self.w, self.head_dim
        t = len(ids)
        h = w["token_embd.weight"][np.asarray(ids)]
        mask = np.triu(np.full((t, t), -np.inf), k=1)
        group = self.heads // self.kv_heads
        for layer in range(self.layers):
            p = f"blk.{layer}."
            a = self.rms_norm(h, w[p + "attn_norm.weight"])
            q = self.rope((a @ w[p + "attn_q.weight"].T).reshape(t, self.heads, hd))
            k = self.rope((a @ w[p + "attn_k.weight"].T).reshape(t, self.kv_heads, hd))
            v = (a @ w[p + "attn_v.weight"].T).reshape(t, self.kv_heads, hd)
            out = np.empty((t, self.heads, hd))
            for head in range(self.heads):
                kv = head // group
                scores = q[:, head, :] @ k[:, kv, :].T / np.sqrt(hd) + mask
                scores -= scores.max(axis=-1, keepdims=True)
                probs = np.exp(scores)
                probs /= probs.sum(axis=-1, keepdims=True)
                out[:, head, :] = probs @ v[:, kv, :]
            h = h + out.reshape(t, self.width) @ w[p + "attn_output.weight"].T
            f = self.rms_norm(h, w[p + "ffn_norm.weight"])
            gate = f @ w[p + "ffn_gate.weight"].T
            up = f @ w[p + "ffn_up.weight"].T
            h = h + (gate / (1.0 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T
        if last_only:
            h = h[-1:]
        x = self.rms_norm(h, w["output_norm.weight"])
        logits = x @ w["token_embd.weight"].T
        return logits[0] if last_only else logits


def logsumexp(x):
    m = x.max()
    return float(m + np.log(np.sum(np.exp(x - m))))


def main():
    start = time.time()
    vocab, merges, _ = tokfix.load_vocab(MODEL)
    tokenizer = tokfix.build(vocab, merges, "smollm")
    model = Model(MODEL)
    print(f"loaded {len(model.w)} tensors in {time.time() - start:.1f}s: {model.layers} layers, width "
          f"{model.width}, heads {model.heads}/{model.kv_heads}, ffn {model.ffn}, vocab {model.vocab}, "
          f"rope base {model.rope_base}, eps {model.eps!r}")

    prompts = []
    last_logits = None
    for index, text in enumerate(PROMPTS):
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        assert tokenizer.decode(ids) == text
        if index == 3:
            assert len(ids) == LONG_PROMPT_TOKENS, len(ids)
        logits = model.forward(ids)
        positions = []
        for row in logits:
            top = np.argsort(-row, kind="stable")[:TOP_K]
            positions.append({"top_ids": [int(i) for i in top],
                              "top_logits": [float(row[i]) for i in top],
                              "logsumexp": logsumexp(row)})
        prompts.append({"text": text, "ids": ids, "positions": positions})
        if index == 0:
            last_logits = logits[-1].copy()
        nexts = tokenizer.decode([positions[-1]["top_ids"][0]])
        print(f"prompt {index}: {len(ids)} tokens, next token {positions[-1]['top_ids'][0]} {nexts!r} "
              f"(logit {positions[-1]['top_logits'][0]:.4f}), {time.time() - start:.1f}s")

    # Greedy continuation of the first prompt (sanity check of the whole reference).
    ids = list(prompts[0]["ids"])
    generated = []
    for _ in range(GREEDY_STEPS):
        logits = model.forward(ids, last_only=True)
        nxt = int(np.argmax(logits))
        generated.append(nxt)
        ids.append(nxt)
    # The last-position-only path must agree with the full pass used for the fixture.
    assert np.allclose(model.forward(prompts[0]["ids"], last_only=True), last_logits, rtol=0, atol=1e-9)
    greedy_text = tokenizer.decode(generated)
    print(f"greedy: {PROMPTS[0]!r} + {greedy_text!r}")
    print(f"greedy ids: {generated}")

    out = {
        "source": "float64 numpy re-implementation of llama.cpp's llama graph on gguf-py dequantized "
                  "tensors; made by Tests/Fixtures/make_smollm2_reference.py",
        "model": os.path.basename(MODEL),
        "config": {"layers": model.layers, "width": model.width, "heads": model.heads,
                   "kv_heads": model.kv_heads, "head_dim": model.head_dim, "ffn": model.ffn,
                   "vocab": model.vocab, "rope_base": model.rope_base, "rms_eps": model.eps},
        "top_k": TOP_K,
        "prompts": prompts,
        "last_logits": {"prompt": 0, "file": os.path.basename(LOGITS_PATH), "count": int(last_logits.size),
                        "dtype": "float32 LE"},
        "greedy": {"prompt": 0, "ids": generated, "text": greedy_text},
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    tmp = LOGITS_PATH + ".tmp"
    last_logits.astype("<f4").tofile(tmp)
    os.replace(tmp, LOGITS_PATH)
    tmp = JSON_PATH + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, JSON_PATH)
    for path in (JSON_PATH, LOGITS_PATH):
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    print(f"total {time.time() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
