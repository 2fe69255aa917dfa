#!/usr/bin/env python3
"""Has real PyTorch read the checkpoints StateDict wrote, and reports what it found as JSON.

Usage: /usr/bin/python3 verify_with_torch.py MANIFEST.json > RESULT.json

MANIFEST.json: {"files": [{"path": "...", "format": "pth" | "safetensors", "original": "... or null", "kinds": false}]}
With "kinds": true, the loaded object (sparse and quantized tensors) is described as make_fixtures.py's
kinds_expectation describes the tensor-kind fixtures ("kinds": {tensors, values, sparse, quantized}).

For each .pth: torch.load(path, weights_only=True) (also without weights_only when that fails, so that the
reason can be compared with the original fixture's), every tensor and plain value flattened to dotted keys with
dtype, shape, strides, storage offset, nn.Parameter-ness and the SHA-256 of its contiguous little-endian bytes
(the same definition as tests/fixtures/make_fixtures.py); then the loaded object is saved again with torch.save
under the same file name and its data.pkl and storage records are compared with ours byte for byte.

For each .safetensors: the header is parsed with struct + json and checked against the rules of the reference
implementation (huggingface/safetensors: 8-byte length, header padded with spaces to a multiple of 8, offsets
back to back from 0 with no gap or overlap and consistent with shape x dtype, the buffer ending the file,
entries ordered by descending dtype alignment then name), every tensor is rebuilt with torch.frombuffer and
hashed the same way, and aliases recorded in __metadata__ are reported as tensors too.

Prints {"torch_version": ..., "dtypes": [...], "files": [{"path", "weights_only", "original_weights_only",
"tensors": [...], "values": {...}, "resave_identical", "problems": [...]}]}.
"""
import hashlib
import json
import math
import os
import struct
import sys
import tempfile
import zipfile

import torch

SAFETENSORS_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16",
                     "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
SAFETENSORS_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
                    "I32": 4, "U32": 4, "F32": 4, "C64": 8, "F64": 8, "I64": 8, "U64": 8}
SAFETENSORS_TORCH = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "F8_E5M2": "float8_e5m2", "F8_E4M3": "float8_e4m3fn",
                     "I16": "int16", "U16": "uint16", "F16": "float16", "BF16": "bfloat16", "I32": "int32",
                     "U32": "uint32", "F32": "float32", "C64": "complex64", "F64": "float64", "I64": "int64",
                     "U64": "uint64"}


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def tensor_sha256(t):
    """SHA-256 of the tensor's contiguous row-major little-endian bytes (as make_fixtures.py computes it)."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: hash the raw 2-byte pattern
        t = t.view(torch.int16)
    data = t.numpy()
    data = data.astype(data.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(data.tobytes()).hexdigest()


def flatten(obj, prefix=""):
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from flatten(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield prefix, obj


def describe(obj):
    tensors, values = [], {}
    for key, leaf in flatten(obj):
        if isinstance(leaf, torch.Tensor):
            tensors.append({
                "key": key,
                "dtype": dtype_name(leaf.dtype),
                "shape": list(leaf.shape),
                "strides": list(leaf.stride()),
                "storage_offset": leaf.storage_offset(),
                "is_parameter": isinstance(leaf, torch.nn.Parameter),
                "sha256": tensor_sha256(leaf),
            })
        elif leaf is None or isinstance(leaf, (bool, int, float, str)):
            values[key] = leaf
        else:
            values[key] = repr(leaf)
    return tensors, values


def describe_kinds(obj):
    """Sparse and quantized tensors described per component as tests/fixtures/make_fixtures.py records them."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
    import make_fixtures
    return make_fixtures.kinds_expectation(torch, list(make_fixtures.flatten_kinds(torch, obj)), "", "")


def try_load(path, weights_only):
    try:
        return torch.load(path, weights_only=weights_only), "ok"
    except Exception as e:  # noqa: BLE001 - the message is the result
        return None, f"{type(e).__name__}: {e}"


def zip_records(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename.split("/", 1)[1], z.read(i.filename)) for i in z.infolist()]


def verify_pth(entry):
    path = entry["path"]
    result = {"path": path, "problems": []}
    obj, result["weights_only"] = try_load(path, True)
    if obj is None:
        if entry.get("original"):
            result["original_weights_only"] = try_load(entry["original"], True)[1]
        obj, full = try_load(path, False)
        if obj is None:
            result["problems"].append(f"torch.load failed even without weights_only: {full}")
            return result
    if entry.get("kinds"):
        result["kinds"] = describe_kinds(obj)
    else:
        result["tensors"], result["values"] = describe(obj)

    # torch.save the loaded object again under the same name: its pickle and storages must be ours, byte for byte.
    with tempfile.TemporaryDirectory() as tmp:
        again = os.path.join(tmp, os.path.basename(path))
        torch.save(obj, again)
        ours = [(n, b) for n, b in zip_records(path) if n != "byteorder"]  # torch < 2.1 writes no byteorder record
        theirs = [(n, b) for n, b in zip_records(again) if n != "byteorder"]
        result["resave_identical"] = ours == theirs
        if ours != theirs:
            names = [n for n, _ in ours], [n for n, _ in theirs]
            differing = [n for (n, a), (m, b) in zip(ours, theirs) if n != m or a != b]
            result["problems"].append(f"torch.save of what torch loaded differs: records {names[0]} vs {names[1]}; differing {differing}")
    return result


def verify_safetensors(entry):
    path = entry["path"]
    result = {"path": path, "problems": [], "weights_only": "n/a"}
    problems = result["problems"]
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header_bytes = data[8:8 + n]
    if n % 8 != 0:
        problems.append(f"header length {n} is not a multiple of 8")
    text = header_bytes.decode("utf-8")
    if not text.startswith("{"):
        problems.append("header does not start with '{'")
    stripped = text.rstrip(" ")
    if len(text) - len(stripped) >= 8:
        problems.append("more padding than needed")
    pairs = json.loads(stripped, object_pairs_hook=lambda p: p)
    header = dict(pairs)
    order = [k for k, _ in pairs if k != "__metadata__"]
    metadata = dict(header.get("__metadata__") or [])
    if any(not isinstance(v, str) for v in metadata.values()):
        problems.append("__metadata__ values must be strings")
    buffer = data[8 + n:]
    entries = {k: dict(v) for k, v in pairs if k != "__metadata__"}
    position = 0
    for key in sorted(entries, key=lambda k: entries[k]["data_offsets"]):
        info = entries[key]
        begin, end = info["data_offsets"]
        if begin != position or end < begin:
            problems.append(f"{key}: offsets {begin}..{end}, expected to start at {position}")
        position = end
        size = SAFETENSORS_SIZE.get(info["dtype"])
        if size is None:
            problems.append(f"{key}: unknown dtype {info['dtype']}")
        elif math.prod(info["shape"]) * size != end - begin:
            problems.append(f"{key}: {end - begin} bytes for {info['dtype']} {info['shape']}")
    if position != len(buffer):
        problems.append(f"buffer holds {len(buffer)} bytes, tensors end at {position}")
    expected_order = sorted(order, key=lambda k: (-SAFETENSORS_ORDER.index(entries[k]["dtype"]), k.encode("utf-8")))
    if order != expected_order:
        problems.append(f"header order {order} is not by descending dtype then name {expected_order}")
    offsets_order = sorted(order, key=lambda k: entries[k]["data_offsets"])
    if order != offsets_order:
        problems.append("header order is not the data order")

    tensors = {}
    for key in order:
        info = entries[key]
        begin, end = info["data_offsets"]
        name = SAFETENSORS_TORCH[info["dtype"]]
        dtype = getattr(torch, name, None)
        raw = buffer[begin:end]
        if dtype is None:  # a dtype this torch does not have: hash the bytes as they are
            digest = hashlib.sha256(raw).hexdigest()
        elif end == begin:
            digest = tensor_sha256(torch.empty(info["shape"], dtype=dtype))
        else:
            digest = tensor_sha256(torch.frombuffer(bytearray(raw), dtype=dtype).reshape(info["shape"]))
        tensors[key] = {"key": key, "dtype": name, "shape": info["shape"], "sha256": digest}
    for alias, target in metadata.items():
        if alias not in tensors and target in tensors:
            tensors[alias] = dict(tensors[target], key=alias, alias_of=target)
    result["tensors"] = list(tensors.values())
    result["metadata"] = metadata
    result["values"] = {}
    return result


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    out = {
        "torch_version": torch.__version__,
        "dtypes": sorted({dtype_name(v) for v in vars(torch).values() if isinstance(v, torch.dtype)}),
        "files": [],
    }
    for entry in manifest["files"]:
        try:
            verify = verify_safetensors if entry["format"] == "safetensors" else verify_pth
            out["files"].append(verify(entry))
        except Exception as e:  # noqa: BLE001 - reported, the C# side fails the test
            out["files"].append({"path": entry["path"], "problems": [f"{type(e).__name__}: {e}"]})
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
