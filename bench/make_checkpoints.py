#!/usr/bin/python3
"""Writes the load benchmark's checkpoints with real PyTorch (torch.save, default zip format) if they are missing.

    /usr/bin/python3 bench/make_checkpoints.py [DIR] [--scale S] [--n-embd D] [--force]

DIR (default /tmp/statedict-bench) receives:
  gpt2xl_fp32.pth  a GPT-2-XL-shaped state_dict: 48 blocks, vocab 50257, n_positions 1024, the 580 tensors of
                   transformers' GPT2Model (wte, wpe, 12 per block, ln_f) in float32. The width defaults to
                   n_embd 896, which makes the file 2.04 GB (the size the issue measured); GPT-2-XL's real width, 1600,
                   makes it 6.2 GB (--n-embd 1600). --scale S picks the width so the file is ~S x 2.04 GB, keeping
                   all 580 tensors (so the pickle, and the open time, do not shrink with it).
  gpt2xl_bf16.pth  the same in bfloat16 (half the bytes).
  small20k.pth     20,000 small float32 tensors (a 22 MB file: 820 bytes each on average, 1-D and 2-D), independent
                   of --scale: it measures the per-tensor costs.
Each file gets a sidecar NAME.json with the parameters it was made with; a file whose sidecar does not match the
requested parameters is rewritten. Values are a cheap deterministic fill (slices of one seeded torch.rand vector),
so generation costs about as much as writing the bytes. These files are large: never commit them.
"""
import argparse
import json
import math
import os
import sys
import time
from collections import OrderedDict

import torch

VOCAB = 50257
N_POSITIONS = 1024
N_LAYER = 48
XL_WIDTH = 1600
DEFAULT_WIDTH = 896  # 580 tensors, 509M parameters: 2.04 GB in float32
BLOCK = [  # (name, shape as a function of the width d), in GPT2Model's state_dict order
    ("ln_1.weight", lambda d: (d,)),
    ("ln_1.bias", lambda d: (d,)),
    ("attn.c_attn.weight", lambda d: (d, 3 * d)),
    ("attn.c_attn.bias", lambda d: (3 * d,)),
    ("attn.c_proj.weight", lambda d: (d, d)),
    ("attn.c_proj.bias", lambda d: (d,)),
    ("ln_2.weight", lambda d: (d,)),
    ("ln_2.bias", lambda d: (d,)),
    ("mlp.c_fc.weight", lambda d: (d, 4 * d)),
    ("mlp.c_fc.bias", lambda d: (4 * d,)),
    ("mlp.c_proj.weight", lambda d: (4 * d, d)),
    ("mlp.c_proj.bias", lambda d: (d,)),
]
SMALL_COUNT = 20_000
SMALL_SHAPES = [(16, 16), (200,), (8, 32), (17, 13), (384,), (64,), (16, 12), (150,), (16, 8), (10, 20)]  # mean 205 elements


def gpt2_shapes(width):
    yield "wte.weight", (VOCAB, width)
    yield "wpe.weight", (N_POSITIONS, width)
    for layer in range(N_LAYER):
        for name, shape in BLOCK:
            yield f"h.{layer}.{name}", shape(width)
    yield "ln_f.weight", (width,)
    yield "ln_f.bias", (width,)


def gpt2_parameters(width):
    return sum(math.prod(shape) for _, shape in gpt2_shapes(width))


def width_for_scale(scale):
    """The width (a multiple of 16) whose float32 file is closest to scale x the default file."""
    target = scale * gpt2_parameters(DEFAULT_WIDTH)
    # parameters = a*d^2 + b*d
    a = 12 * N_LAYER
    b = (gpt2_parameters(1000) - a * 1000 ** 2) / 1000
    d = (-b + math.sqrt(b * b + 4 * a * target)) / (2 * a)
    return max(16, int(round(d / 16)) * 16)


def filler(count, dtype):
    """One seeded vector; tensor i copies a slice starting at a different offset, so tensors differ."""
    generator = torch.Generator().manual_seed(20240601)
    return torch.rand(count + 4096, generator=generator).to(dtype)


def build_gpt2(width, dtype):
    shapes = list(gpt2_shapes(width))
    largest = max(math.prod(shape) for _, shape in shapes)
    base = filler(largest, dtype)
    state = OrderedDict()
    for i, (key, shape) in enumerate(shapes):
        n = math.prod(shape)
        start = (i * 977) % 4096
        tensor = torch.empty(shape, dtype=dtype)  # its own storage (a slice of base would save all of base)
        tensor.view(-1).copy_(base[start:start + n])
        state[key] = tensor
    return state


def build_small():
    base = filler(max(math.prod(s) for s in SMALL_SHAPES), torch.float32)
    names = ["weight", "bias", "scale", "running_mean", "running_var", "proj.weight", "proj.bias", "gate", "norm.weight", "norm.bias"]
    state = OrderedDict()
    for i in range(SMALL_COUNT):
        shape = SMALL_SHAPES[(i * 7) % len(SMALL_SHAPES)]
        n = math.prod(shape)
        start = (i * 131) % 4096
        tensor = torch.empty(shape, dtype=torch.float32)
        tensor.view(-1).copy_(base[start:start + n])
        state[f"blocks.{i // len(names)}.{names[i % len(names)]}"] = tensor
    return state


def write(directory, name, params, build, force):
    path = os.path.join(directory, name)
    sidecar = path + ".json"
    if not force and os.path.exists(path) and os.path.exists(sidecar):
        with open(sidecar) as f:
            if json.load(f) == params:
                print(f"{path}: present ({os.path.getsize(path) / 1e6:,.1f} MB)")
                return
    started = time.perf_counter()
    state = build()
    # Written under its final name in a scratch directory: torch.save names the archive's top folder after the file.
    scratch = os.path.join(directory, ".partial")
    os.makedirs(scratch, exist_ok=True)
    temporary = os.path.join(scratch, name)
    torch.save(state, temporary)
    del state
    os.replace(temporary, path)
    try:
        os.rmdir(scratch)
    except OSError:
        pass
    with open(sidecar, "w") as f:
        json.dump(params, f)
    print(f"{path}: written, {os.path.getsize(path) / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", default="/tmp/statedict-bench")
    parser.add_argument("--scale", type=float, default=1.0, help="size of the GPT-2 files relative to 2.04 GB (fp32)")
    parser.add_argument("--n-embd", type=int, default=None, help=f"width of the GPT-2 files (overrides --scale; {XL_WIDTH} is GPT-2-XL's)")
    parser.add_argument("--force", action="store_true", help="rewrite the files even if present")
    args = parser.parse_args()
    width = args.n_embd or (DEFAULT_WIDTH if args.scale == 1.0 else width_for_scale(args.scale))
    os.makedirs(args.directory, exist_ok=True)
    torch.manual_seed(0)
    common = {"torch": torch.__version__, "n_layer": N_LAYER, "vocab": VOCAB, "n_positions": N_POSITIONS, "n_embd": width}
    print(f"GPT-2 files: n_embd {width}, {gpt2_parameters(width) / 1e6:,.1f}M parameters, 580 tensors", file=sys.stderr)
    write(args.directory, "gpt2xl_fp32.pth", {**common, "dtype": "float32"}, lambda: build_gpt2(width, torch.float32), args.force)
    write(args.directory, "gpt2xl_bf16.pth", {**common, "dtype": "bfloat16"}, lambda: build_gpt2(width, torch.bfloat16), args.force)
    write(args.directory, "small20k.pth", {"torch": torch.__version__, "count": SMALL_COUNT, "shapes": [list(s) for s in SMALL_SHAPES]},
          build_small, args.force)


if __name__ == "__main__":
    main()
