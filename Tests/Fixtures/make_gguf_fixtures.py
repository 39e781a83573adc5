#!/usr/bin/env python3
"""GGUF reader fixture: one small file with every metadata value type and several tensor types.

Writes
  Tests/Fixtures/gguf/types.gguf           written with gguf-py's GGUFWriter (arch "tandem-test",
                                           general.alignment = 64 so the data section and every
                                           tensor offset are 64-byte aligned instead of the default 32)
  Tests/Fixtures/gguf/types.expected.json  the expected metadata values and dequantized tensor values

Reference: gguf-py (the Python package maintained in llama.cpp, `pip install gguf`). Metadata is
written with the writer's typed add_* methods; tensors are quantized with gguf.quants.quantize and
the expected values come from gguf.quants.dequantize of the exact bytes that were written. The file
is read back with gguf.GGUFReader to check every key's stored type and every tensor's bytes.

Expected JSON schema:
  {"source": str,
   "alignment": 64,
   "metadata": {key: {"type": GGUF value type name ("UINT8", ..., "ARRAY"),
                      "element_type": element type name (arrays only),
                      "value": JSON value}},
   "tensors": {name: {"type": ggml type name ("F32", "Q4_0", ...),
                      "shape_ne": [ne0, ne1] (GGUF order, ne0 = row length),
                      "values": [float, ...] (row-major numpy order, exact float32 values)}}}
  Floats are written with repr(float(np.float32(x))), i.e. the shortest decimal that round-trips
  the float32 value through float64; parse them as Double and convert to Float.

Run from the repository root: /tmp/fixvenv/bin/python Tests/Fixtures/make_gguf_fixtures.py
(needs numpy and gguf). Deterministic: fixed seed, no timestamps.
"""
import importlib.metadata
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "gguf")
GGUF_PATH = os.path.join(OUT_DIR, "types.gguf")
JSON_PATH = os.path.join(OUT_DIR, "types.expected.json")
ARCH = "tandem-test"
ALIGNMENT = 64
SEED = 1234

# key -> (writer method name, value, expected stored type, expected array element type)
METADATA = [
    ("test.u8", "add_uint8", 200, VT.UINT8, None),
    ("test.i8", "add_int8", -100, VT.INT8, None),
    ("test.u16", "add_uint16", 60000, VT.UINT16, None),
    ("test.i16", "add_int16", -30000, VT.INT16, None),
    ("test.u32", "add_uint32", 4000000000, VT.UINT32, None),
    ("test.i32", "add_int32", -2000000000, VT.INT32, None),
    ("test.f32", "add_float32", 0.15625, VT.FLOAT32, None),
    ("test.bool", "add_bool", True, VT.BOOL, None),
    ("test.str", "add_string", "h\u00e9llo w\u00f6rld \u2713", VT.STRING, None),
    ("test.u64", "add_uint64", 2**40 + 3, VT.UINT64, None),
    ("test.i64", "add_int64", -(2**40), VT.INT64, None),
    ("test.f64", "add_float64", 0.1, VT.FLOAT64, None),
    # add_array infers the element type from the Python values: int -> INT32, str -> STRING,
    # float -> FLOAT32 (checked on read-back below).
    ("test.arr_i32", "add_array", [1, -2, 3], VT.ARRAY, VT.INT32),
    ("test.arr_str", "add_array", ["a", "bc", ""], VT.ARRAY, VT.STRING),
    ("test.arr_f32", "add_array", [0.5, -1.25], VT.ARRAY, VT.FLOAT32),
]

# name -> (ggml type, numpy shape (rows, row length))
TENSORS = [
    ("t.F32", QT.F32, (3, 64)),
    ("t.F16", QT.F16, (3, 64)),
    ("t.BF16", QT.BF16, (3, 64)),
    ("t.Q8_0", QT.Q8_0, (3, 64)),
    ("t.Q4_0", QT.Q4_0, (3, 64)),
    ("t.Q4_1", QT.Q4_1, (3, 64)),
    ("t.Q8_0.wide", QT.Q8_0, (5, 96)),
]


def make_values(rng, shape):
    """Standard normal float32 values with 4 exact zeros and one outlier of magnitude 8."""
    data = rng.normal(0.0, 1.0, size=shape).astype(np.float32)
    flat = data.reshape(-1)
    picks = rng.choice(flat.size, size=5, replace=False)
    flat[picks[:4]] = 0.0
    flat[picks[4]] = 8.0 if rng.random() < 0.5 else -8.0
    return data


def f32_repr(x):
    return repr(float(np.float32(x)))


def atomic_write_bytes(path, write_fn):
    tmp = path + ".tmp"
    write_fn(tmp)
    os.replace(tmp, path)


def write_gguf(path, tensors):
    writer = gguf.GGUFWriter(path, ARCH)
    writer.add_custom_alignment(ALIGNMENT)
    for key, method, value, _, _ in METADATA:
        getattr(writer, method)(key, value)
    for name, (qtype, raw) in tensors.items():
        writer.add_tensor(name, raw, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def check_gguf(path, tensors):
    """Read the file back with GGUFReader; check types, values, alignment and tensor bytes."""
    reader = gguf.GGUFReader(path)
    assert reader.alignment == ALIGNMENT, reader.alignment
    assert reader.data_offset % ALIGNMENT == 0
    print(f"{path}: data offset {reader.data_offset}, alignment {reader.alignment}")
    for key, _, value, vtype, subtype in METADATA:
        field = reader.get_field(key)
        assert field is not None, key
        types = [t.name for t in field.types]
        print(f"  {key:14s} types={types} value={field.contents()!r}")
        assert field.types[0] == vtype, (key, types)
        if subtype is not None:
            assert field.types[1] == subtype, (key, types)
        assert field.contents() == value, (key, field.contents(), value)
    assert reader.get_field("general.architecture").contents() == ARCH
    by_name = {t.name: t for t in reader.tensors}
    assert list(by_name) == list(tensors), list(by_name)
    for name, (qtype, raw) in tensors.items():
        t = by_name[name]
        assert t.tensor_type == qtype, (name, t.tensor_type)
        assert t.data_offset % ALIGNMENT == 0, (name, t.data_offset)
        assert np.asarray(t.data).tobytes() == raw.tobytes(), name
        print(f"  {name:12s} {t.tensor_type.name:5s} ne={[int(n) for n in t.shape]} "
              f"offset={t.data_offset} bytes={t.n_bytes}")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(SEED)
    tensors = {}
    expected_tensors = {}
    for name, qtype, shape in TENSORS:
        data = make_values(rng, shape)
        raw = np.ascontiguousarray(gguf.quants.quantize(data, qtype))
        deq = np.asarray(gguf.quants.dequantize(raw, qtype), dtype=np.float32)
        assert deq.shape == shape, (name, deq.shape)
        err = float(np.max(np.abs(deq - data)))
        print(f"{name:12s} {qtype.name:5s} raw {raw.dtype}{list(raw.shape)} max |deq - src| = {err:.4g}")
        tensors[name] = (qtype, raw)
        expected_tensors[name] = {
            "type": qtype.name,
            "shape_ne": [shape[1], shape[0]],
            "values": deq.reshape(-1),
        }

    atomic_write_bytes(GGUF_PATH, lambda tmp: write_gguf(tmp, tensors))
    check_gguf(GGUF_PATH, tensors)

    metadata = {}
    for key, _, value, vtype, subtype in METADATA:
        entry = {"type": vtype.name}
        if subtype is not None:
            entry["element_type"] = subtype.name
        entry["value"] = value
        metadata[key] = entry

    # Hand-assembled JSON so every float is the exact float32 repr.
    lines = ["{",
             '  "source": ' + json.dumps(
                 "gguf-py " + importlib.metadata.version("gguf") + " GGUFWriter + gguf.quants; "
                 "made by Tests/Fixtures/make_gguf_fixtures.py") + ",",
             f'  "alignment": {ALIGNMENT},',
             '  "metadata": {']
    items = []
    for key, entry in metadata.items():
        items.append("    " + json.dumps(key) + ": " + json.dumps(entry, ensure_ascii=False))
    lines.append(",\n".join(items))
    lines.append("  },")
    lines.append('  "tensors": {')
    items = []
    for name, entry in expected_tensors.items():
        values = ", ".join(f32_repr(v) for v in entry["values"])
        items.append("    " + json.dumps(name) + ': {"type": ' + json.dumps(entry["type"])
                     + ', "shape_ne": ' + json.dumps(entry["shape_ne"])
                     + ',\n      "values": [' + values + "]}")
    lines.append(",\n".join(items))
    lines.append("  }")
    lines.append("}")
    text = "\n".join(lines) + "\n"

    # The JSON must parse and round-trip the float32 values exactly.
    parsed = json.loads(text)
    for name, entry in expected_tensors.items():
        back = np.array(parsed["tensors"][name]["values"], dtype=np.float64).astype(np.float32)
        assert np.array_equal(back.view(np.uint32), entry["values"].view(np.uint32)), name
    assert parsed["metadata"]["test.f32"]["value"] == 0.15625

    def write_json(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    atomic_write_bytes(JSON_PATH, write_json)
    print(f"wrote {GGUF_PATH} ({os.path.getsize(GGUF_PATH)} bytes)")
    print(f"wrote {JSON_PATH} ({os.path.getsize(JSON_PATH)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
