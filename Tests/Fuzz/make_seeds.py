"""Writes the fuzz seeds that are not copies of other fixtures (run by `make fuzz-seeds`).

- seeds/safetensors/tiny_model.safetensors: a whole engine checkpoint (vocabulary 6, width 4,
  one layer), so mutations reach the config and tensor-table checks, not only the header.
- seeds/gguf/tiny_llama.gguf: a llama-architecture GGUF with a byte-level BPE tokenizer (the
  256 byte symbols plus a few merges) and F32/F16/Q8_0 tensors, written by gguf-py (llama.cpp's
  own writer), so mutations reach the config mapping and the tokenizer loader.
"""
import json
import os
import struct

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))


def byte_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def tiny_safetensors(path):
    vocab, width, ff, layers = 6, 4, 2, 1
    shapes = [("model.embed_tokens.weight", [vocab, width])]
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", [width]), (p + "self_attn.q_proj.weight", [width, width]),
                   (p + "self_attn.k_proj.weight", [width, width]), (p + "self_attn.v_proj.weight", [width, width]),
                   (p + "self_attn.o_proj.weight", [width, width]),
                   (p + "post_attention_layernorm.weight", [width]),
                   (p + "mlp.gate_proj.weight", [ff, width]), (p + "mlp.up_proj.weight", [ff, width]),
                   (p + "mlp.down_proj.weight", [width, ff])]
    shapes.append(("model.norm.weight", [width]))
    rng = np.random.default_rng(7)
    header, body = {}, b""
    for name, shape in shapes:
        data = rng.standard_normal(shape).astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    header["__metadata__"] = {
        "vocabulary_size": str(vocab), "width": str(width), "layer_count": str(layers), "head_count": "1",
        "key_value_head_count": "1", "feed_forward_width": str(ff), "max_context": "8",
        "rope_theta": "10000.0", "norm_epsilon": "1e-05", "tied_embeddings": "true", "format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def tiny_gguf(path):
    width, ff, heads = 8, 16, 2
    symbols = byte_to_unicode()
    merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"]
    tokens = symbols + [m.replace(" ", "") for m in merges] + ["<|endoftext|>"]
    vocab = len(tokens)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_context_length(16)
    writer.add_embedding_length(width)
    writer.add_block_count(1)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(1)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * (vocab - 1) + [3])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab - 1)
    writer.add_eos_token_id(vocab - 1)
    rng = np.random.default_rng(11)

    def tensor(name, shape, kind=gguf.GGMLQuantizationType.F32):
        values = rng.standard_normal(shape).astype(np.float32)
        if kind == gguf.GGMLQuantizationType.F16:
            writer.add_tensor(name, values.astype(np.float16))
        elif kind == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(name, values)
        else:
            writer.add_tensor(name, gguf.quantize(values, kind), raw_dtype=kind)
    head_dim = width // heads
    tensor("token_embd.weight", [vocab, width], gguf.GGMLQuantizationType.F16)
    tensor("blk.0.attn_norm.weight", [width])
    tensor("blk.0.attn_q.weight", [width, width])
    tensor("blk.0.attn_k.weight", [head_dim, width])
    tensor("blk.0.attn_v.weight", [head_dim, width])
    tensor("blk.0.attn_output.weight", [width, width])
    tensor("blk.0.ffn_norm.weight", [width])
    tensor("blk.0.ffn_gate.weight", [ff, width])
    tensor("blk.0.ffn_up.weight", [ff, width])
    tensor("blk.0.ffn_down.weight", [width, ff])
    tensor("output_norm.weight", [width])
    tensor("extra.q8_0", [2, 32], gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    tiny_safetensors(os.path.join(HERE, "seeds/safetensors/tiny_model.safetensors"))
    tiny_gguf(os.path.join(HERE, "seeds/gguf/tiny_llama.gguf"))
    print("wrote seeds/safetensors/tiny_model.safetensors and seeds/gguf/tiny_llama.gguf")
