#!/usr/bin/env python3
"""Differential check of FRAME handling against CPython's C unpickler (a development tool, not run by the tests).

Writes random protocol-4 pickles whose reads straddle frame ends, whose FRAMEs nest and whose frames end early,
runs each through pickle.Unpickler on io.BytesIO (how torch.load reads a zip's data.pkl) and on a real file (how it
reads legacy files), and checks that `statedict scan --json` reports every global either of them imported.

Usage: python3 tests/Runtime.Tests/Pickle/frame_differential.py SEED COUNT -- dotnet path/to/StateDict.Cli.dll
"""
import io
import json
import os
import pickle
import random
import struct
import subprocess
import sys
import tempfile


class Recorder(pickle.Unpickler):
    """Records every global CPython imports and returns an inert stand-in: nothing is ever called for real."""

    def __init__(self, f):
        super().__init__(f)
        self.seen = []

    def find_class(self, module, name):
        self.seen.append(f"{module}.{name}")
        return lambda *a, **k: None

    def persistent_load(self, pid):
        return None


def frame(body):
    return b"\x95" + struct.pack("<Q", len(body)) + body


def a_global(i):
    return f"c{['posix', 'os', 'builtins', 'subprocess'][i % 4]}\n{['system', 'popen', 'eval', 'call'][i // 4 % 4]}{i}\n".encode()


def piece(rng, i):
    """An opcode, or only an opcode's header (so its argument runs into what follows), or filler."""
    kind = rng.randrange(7)
    if kind == 0:
        return a_global(i) + b"0"
    if kind == 1:
        return b"X" + struct.pack("<I", rng.randrange(1, 12))   # BINUNICODE header
    if kind == 2:
        return b"B" + struct.pack("<I", rng.randrange(1, 12))   # BINBYTES header (readinto on 3.8+)
    if kind == 3:
        return b"\x8c" + bytes([rng.randrange(1, 12)])          # SHORT_BINUNICODE header
    if kind == 4:
        return b"N0"
    if kind == 5:
        return b"a" * rng.randrange(1, 8)
    return b"\x95" + struct.pack("<Q", rng.randrange(0, 30))     # a FRAME, maybe inside a frame


def imported(path, data):
    seen = set()
    for f in (io.BytesIO(data), open(path, "rb")):
        u = Recorder(f)
        try:
            u.load()
        except Exception:
            pass
        seen |= set(u.seen)
    return seen


def main(argv):
    seed, count, command = int(argv[0]), int(argv[1]), argv[argv.index("--") + 1:]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        cases = []
        for c in range(count):
            body = b"".join(piece(rng, i) for i in range(rng.randrange(3, 9)))
            cut = rng.randrange(1, len(body))
            data = b"\x80\x04" + frame(body[:cut]) + body[cut:] + b"".join(a_global(20 + i) + b"0" for i in range(3)) + b"N."
            path = os.path.join(folder, f"case{c}.pkl")
            with open(path, "wb") as f:
                f.write(data)
            cases.append((path, imported(path, data)))
        out = subprocess.run(command + ["scan", "--json"] + [p for p, _ in cases], capture_output=True, text=True).stdout
        report = {f["file"]: f for f in json.loads(out)["files"]}
        missed = 0
        for path, python in cases:
            ours = {g["name"] for p in report[path]["pickles"] for g in p["globals"]}
            if python - ours:
                missed += 1
                print(f"MISSED {sorted(python - ours)} in {open(path, 'rb').read()!r}: {report[path].get('error')}")
        print(f"{count} pickles, {missed} where CPython imports a global the scan does not report")
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
