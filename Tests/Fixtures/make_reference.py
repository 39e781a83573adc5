#!/usr/bin/env python3
"""Independent numpy reference for tandem's transformer (float64 throughout).

Writes, for each tiny config, a weights checkpoint <name>.safetensors (the config in
__metadata__, Hugging Face Llama tensor names) and <name>.expected.safetensors holding the
input tokens, the logits of every position and the residual stream after each layer of one
full-sequence causal forward pass. The Swift tests load both and compare.

Run from anywhere: python3 Tests/Fixtures/make_reference.py  (needs numpy only)
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = {
    # grouped KV heads (4 query heads share 2 KV heads), untied head, odd-ish sizes
    "tiny_gqa": dict(vocabulary_size=40, width=32, layer_count=2, head_count=4,
                     key_value_head_count=2, feed_forward_width=48, max_context=64,
                     rope_theta=10000.0, norm_epsilon=1e-5, tied_embeddings=False),
    # plain multi-head attention, tied embeddings, head dim 6, sizes not multiples of 8 or 16
    "tiny_tied": dict(vocabulary_size=37, width=18, layer_count=3, head_count=3,
                      key_value_head_count=3, feed_forward_width=29, max_context=64,
                      rope_theta=500.0, norm_epsilon=1e-6, tied_embeddings=True),
}


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    offset = 0
    blobs = []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def make_weights(c, rng):
    d, f, v = c["width"], c["feed_forward_width"], c["vocabulary_size"]
    hd = d // c["head_count"]
    qw, kvw = c["head_count"] * hd, c["key_value_head_count"] * hd
    w = {"model.embed_tokens.weight": rng.normal(0, 1, (v, d))}
    for layer in range(c["layer_count"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, d ** -0.5, (qw, d))
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, d ** -0.5, (kvw, d))
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, d ** -0.5, (kvw, d))
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, qw ** -0.5, (d, qw))
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, d ** -0.5, (f, d))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, d ** -0.5, (f, d))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, f ** -0.5, (d, f))
    w["model.norm.weight"] = 1 + 0.1 * rng.normal(size=d)
    if not c["tied_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, d ** -0.5, (v, d))
    # The engine computes in float32: round the weights exactly as they are stored.
    return {k: v.astype(np.float32).astype(np.float64) for k, v in w.items()}


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rotate(x, positions, theta):
    # x [T, heads, hd], Hugging Face "rotate half" convention
    hd = x.shape[-1]
    half = hd // 2
    freq = theta ** (-np.arange(half) * 2.0 / hd)
    angle = positions[:, None] * freq[None, :]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def forward(c, w, tokens):
    d, h, kvh = c["width"], c["head_count"], c["key_value_head_count"]
    hd = d // h
    eps, theta = c["norm_epsilon"], c["rope_theta"]
    t = len(tokens)
    positions = np.arange(t, dtype=np.float64)
    x = w["model.embed_tokens.weight"][tokens]
    hidden = []
    mask = np.triu(np.full((t, t), -np.inf), k=1)
    for layer in range(c["layer_count"]):
        p = f"model.layers.{layer}."
        n = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (n @ w[p + "self_attn.q_proj.weight"].T).reshape(t, h, hd)
        k = (n @ w[p + "self_attn.k_proj.weight"].T).reshape(t, kvh, hd)
        v = (n @ w[p + "self_attn.v_proj.weight"].T).reshape(t, kvh, hd)
        q, k = rotate(q, positions, theta), rotate(k, positions, theta)
        group = h // kvh
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hd) + mask
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attention = np.einsum("hqk,khd->qhd", scores, v).reshape(t, h * hd)
        x = x + attention @ w[p + "self_attn.o_proj.weight"].T
        n = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = n @ w[p + "mlp.gate_proj.weight"].T
        up = n @ w[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T
        hidden.append(x.copy())
    head = w["model.embed_tokens.weight"] if c["tied_embeddings"] else w["lm_head.weight"]
    logits = rms_norm(x, w["model.norm.weight"], eps) @ head.T
    return logits, hidden


def main():
    for index, (name, c) in enumerate(sorted(CONFIGS.items())):
        rng = np.random.default_rng(1234 + index)
        w = make_weights(c, rng)
        tokens = rng.integers(0, c["vocabulary_size"], size=13)
        logits, hidden = forward(c, w, tokens)
        metadata = dict(c)
        metadata["tied_embeddings"] = "true" if c["tied_embeddings"] else "false"
        write_safetensors(os.path.join(HERE, name + ".safetensors"), w, metadata)
        expected = {"tokens": tokens.astype(np.float64), "logits": logits}
        for layer, x in enumerate(hidden):
            expected[f"hidden.{layer + 1}"] = x
        write_safetensors(os.path.join(HERE, name + ".expected.safetensors"), expected, {"reference": "numpy float64"})
        print(f"wrote {name}: logits {logits.shape}, |logits| max {np.abs(logits).max():.3f}")


if __name__ == "__main__":
    main()
