"""Writes the differential lane's seed pickles to fuzz/Differential/seeds (committed; the CI lane reads only those).

    /usr/bin/python3 fuzz/Differential/make_seeds.py

Sources: every pickle in tests/fixtures (data.pkl and other .pkl members of zip archives, each pickle of a legacy
file, plain pickles) and the malicious catalogue, plus hand-made protocol 4/5 pickles with FRAMEs. Seeds over 64 kB are
skipped (AFL mutates them slowly). Uses only the standard library: nothing is unpickled.
"""

import collections
import hashlib
import io
import os
import pickle
import pickletools
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "seeds")
LIMIT = 64 * 1024


def pickles_in(data):
    """Each complete pickle in data (several for a legacy torch.save file), found by walking opcodes to STOP."""
    found, position = [], 0
    while position < len(data):
        stream = io.BytesIO(data[position:])
        try:
            end = None
            for op, _, at in pickletools.genops(stream):
                if op.name == "STOP":
                    end = at + 1
                    break
        except Exception:  # noqa: BLE001 - a truncated or non-pickle tail ends the walk
            end = None
        if end is None:
            break
        found.append(data[position:position + end])
        position += end
    return found


def sources():
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    for folder, _, files in sorted(os.walk(fixtures)):
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.endswith((".json", ".py", ".md", ".safetensors")):
                continue
            with open(path, "rb") as f:
                data = f.read()
            label = os.path.relpath(path, fixtures).replace(os.sep, "_")
            if zipfile.is_zipfile(path):
                try:
                    with zipfile.ZipFile(path) as z:
                        for member in z.namelist():
                            if member.endswith(".pkl"):
                                yield label + "_" + member.replace("/", "_"), z.read(member)
                except Exception:  # noqa: BLE001 - hostile archives in the catalogue
                    pass
                continue
            for i, p in enumerate(pickles_in(data)):
                yield "%s_%d" % (label, i), p


class Fake:
    """Pickles as a tensor rebuild: _rebuild_tensor_v2(persistent id, offset, size, stride, requires_grad, hooks)."""

    def __init__(self, key, offset, size, stride):
        self.args = (key, offset, size, stride)

    def __reduce__(self):
        import types
        rebuild = types.SimpleNamespace()
        return (_rebuild_tensor_v2, (Storage(self.args[0]),) + self.args[1:] + (False, collections.OrderedDict()))


def _rebuild_tensor_v2(*args):
    return args


_rebuild_tensor_v2.__module__ = "torch._utils"


class Storage:
    def __init__(self, key):
        self.key = key


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", 4)
        return None


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
FloatStorage.__qualname__ = "FloatStorage"


def hand_made():
    state = collections.OrderedDict()
    state["fc.weight"] = Fake("0", 0, (2, 2), (2, 1))
    state["fc.bias"] = Fake("1", 0, (2,), (1,))
    state["step"] = 7
    state["names"] = ["a" * 300, b"\x00" * 70000 if False else b"\x00" * 300]
    sys.modules["torch._utils"] = sys.modules[__name__]
    sys.modules["torch"] = sys.modules[__name__]
    for protocol in (2, 4, 5):
        buffer = io.BytesIO()
        Pickler(buffer, protocol=protocol).dump(state)
        yield "handmade_state_dict_p%d" % protocol, buffer.getvalue()
    del sys.modules["torch._utils"], sys.modules["torch"]
    for protocol in (4, 5):
        yield "handmade_frames_p%d" % protocol, pickle.dumps({"k%d" % i: "v" * i for i in range(40)}, protocol=protocol)
        yield "handmade_big_bytes_p%d" % protocol, pickle.dumps([b"x" * 9000, "y" * 9000], protocol=protocol)
    # A FRAME whose last argument runs past its end (the frame-boundary differential), and a nested FRAME.
    # CPython reads the argument from after the frame's end (the frame's tail is skipped), so it then runs the GLOBAL;
    # a reader that ignores frames reads "zabc" and stops at the '.'.
    yield "handmade_frame_straddle", (b"\x80\x04\x95" + (6).to_bytes(8, "little") + b"X\x04\x00\x00\x00z"
                                      + b"abc." + b"0cos\nsystem\n(Vid\ntR.")
    yield "handmade_frame_nested", b"\x80\x04\x95" + (20).to_bytes(8, "little") + b"\x95" + (3).to_bytes(8, "little") + b"K\x01." + b"\x00" * 10
    yield "handmade_global_then_corrupt", b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R\xff"


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    seen = set()
    count = 0
    for label, data in list(sources()) + list(hand_made()):
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > LIMIT or digest in seen:
            continue
        seen.add(digest)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)[:80]
        with open(os.path.join(OUT, safe + ".pkl"), "wb") as f:
            f.write(data)
        count += 1
    print("%d seeds in %s" % (count, os.path.relpath(OUT, ROOT)))


if __name__ == "__main__":
    main()
