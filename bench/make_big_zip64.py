#!/usr/bin/env python3
"""Writes a >4 GiB torch.save checkpoint for the big-file check (bench/README.md, "Big files"):
two uint8 tensors of 2,200,000,000 elements each (more elements than a .NET span can index; records past 4 GiB
need zip64 sizes and offsets) and a small float tensor stored after them. Records each tensor's SHA-256.

    /usr/bin/python3 bench/make_big_zip64.py [OUT_DIR]   (default /tmp/statedict-bench)
"""
import hashlib, json, os, sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/statedict-bench"
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "big_zip64.pth")
n = 2_200_000_000
a = torch.arange(n, dtype=torch.int64).remainder_(251).to(torch.uint8)
b = torch.flip(a, [0])
c = torch.linspace(-1, 1, 1000)
sd = {"a": a, "b": b, "c": c}
torch.save(sd, path)
expected = {k: hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest() for k, v in sd.items()}
with open(path + ".sha256.json", "w") as f:
    json.dump(expected, f, indent=1)
print(path, os.path.getsize(path), "bytes")
