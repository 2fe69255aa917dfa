#!/usr/bin/python3
"""One torch.load measurement, in its own process (the Load.Bench table runs it once per run):

    /usr/bin/python3 bench/torch_load.py FILE --weights-only {0,1} [--touch pages|bytes] [--repetitions N]

Times torch.load(FILE, map_location="cpu", weights_only=...) followed by touching every tensor's bytes, so that a lazy
path could not look fast by not reading: each tensor is flattened and viewed as uint8 (t.reshape(-1).view(torch.uint8),
no copy for contiguous tensors), and with --touch pages (the default, like the C# copy-mode row) one byte of every
4 KiB page plus the last byte is summed (b[::4096].sum() + b[-1]); with --touch bytes every byte is summed (b.sum(),
in 1 MiB chunks).
Peak RSS is resource.getrusage(RUSAGE_SELF).ru_maxrss read right after, so it includes the interpreter and torch
itself (~250 MB when idle). Then, in this same process, memcpy (ctypes.memmove, i.e. libc memcpy) of the file's size
between two already-touched anonymous buffers advised to use huge pages: the limit the table divides by.
Prints one line: RESULT {json}.
"""
import argparse
import ctypes
import json
import mmap
import os
import resource
import statistics
import time

import torch


def tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors(item)


def touch(tensor, every_byte):
    if tensor.numel() == 0:
        return 0
    b = tensor.reshape(-1).view(torch.uint8)
    if every_byte:
        # In 1 MiB chunks: summing uint8 promotes to int64, and a whole-tensor sum would allocate 8x the tensor.
        return sum(int(chunk.sum()) for chunk in b.split(1 << 20))
    return int(b[::4096].sum()) + int(b[-1])


def touched_buffer(size, value):
    buffer = mmap.mmap(-1, size)
    buffer.madvise(mmap.MADV_HUGEPAGE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    ctypes.memset(address, value, size)
    return buffer, address


def memcpy_seconds(size, repetitions):
    source, source_address = touched_buffer(size, 1)
    destination, destination_address = touched_buffer(size, 2)
    ctypes.memmove(destination_address, source_address, size)
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        ctypes.memmove(destination_address, source_address, size)
        times.append(time.perf_counter() - started)
    del source_address, destination_address
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--weights-only", type=int, choices=[0, 1], required=True)
    parser.add_argument("--touch", choices=["pages", "bytes"], default="pages")
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    size = os.path.getsize(args.file)

    started = time.perf_counter()
    state = torch.load(args.file, map_location="cpu", weights_only=bool(args.weights_only))
    loaded = time.perf_counter() - started
    checksum = 0
    count = 0
    tensor_bytes = 0
    for tensor in tensors(state):
        checksum += touch(tensor, args.touch == "bytes")
        count += 1
        tensor_bytes += tensor.numel() * tensor.element_size()
    seconds = time.perf_counter() - started
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    del state

    result = {
        "mode": f"torch.load weights_only={bool(args.weights_only)}",
        "file": args.file,
        "bytes": size,
        "seconds": seconds,
        "load_seconds": loaded,
        "hwm": maxrss,
        "tensors": count,
        "tensor_bytes": tensor_bytes,
        "checksum": checksum,
        "touch": args.touch,
        "torch": torch.__version__,
        "memcpy_seconds": memcpy_seconds(size, args.repetitions),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
