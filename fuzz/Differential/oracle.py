"""The reference side of the differential lane: CPython's C unpickler, driven as torch.load drives it.

Run with Debian's /usr/bin/python3 (CPython 3.11, C _pickle); any CPython 3 with the C pickle module gives the same
answers. Protocol, on stdin/stdout: each request is a 4-byte little-endian length then that many pickle bytes; each
answer is a 4-byte little-endian length then UTF-8 JSON:

    {"bytesio": RUN, "file": RUN}
    RUN = {"globals": [[module, name], ...],   # every find_class call, in order, as the unpickler passed it
           "ok": true | false,                 # STOP reached without an error
           "error": "...",                     # when not ok
           "root": "..."}                      # when ok: the canonical text of the result (see canon())

Two drivers, because torch.load uses both: a zip archive's data.pkl is unpickled from
io.BytesIO(zip_file.get_record(...)), a legacy file (and a plain pickle.load) from the open file itself, a
BufferedReader whose peek() changes how the C unpickler prefetches, hence how FRAMEs are consumed.

Nothing is imported or called: find_class returns a fresh recorder class, persistent_load a placeholder.
The canonical text is mirrored byte for byte by Canon.cs on the .NET side.
"""

import io
import json
import os
import pickle
import resource
import signal
import struct
import sys
import _compat_pickle

MAX_NODES = 200_000
MAX_DEPTH = 1_100


class Timeout(Exception):
    pass


ARMED = [False]


def _on_alarm(signum, frame):
    if ARMED[0]:
        raise Timeout("timeout")


class Recorded:
    """An instance made by calling a recorded global (REDUCE, NEWOBJ, INST, OBJ) or a recorded instance."""

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.callable = cls
        self.args = args
        self.kwargs = kwargs if kwargs else None
        self.kind = "N"  # cls.__new__ only (NEWOBJ, or INST/OBJ without arguments)
        self.states = []
        self.items = []
        self.appends = []
        return self

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args):
        made = object.__new__(Recorded)
        made.callable = self
        made.args = args
        made.kwargs = None
        made.kind = "R"
        made.states = []
        made.items = []
        made.appends = []
        return made

    def __setstate__(self, state):
        self.states.append(state)

    def __setitem__(self, key, value):
        self.items.append((key, value))

    def append(self, item):
        self.appends.append(item)

    def extend(self, items):
        self.appends.extend(items)

    def add(self, item):
        self.appends.append(item)


class GlobalBase(Recorded):
    """Base of the class find_class returns for each global. Calling it (REDUCE, INST with arguments) records a call."""

    def __init__(self, *args, **kwargs):
        # Only REDUCE-style calls (cls(*args)) reach __init__; NEWOBJ calls cls.__new__ alone.
        self.kind = "R"


def plain(s):
    """s with lone surrogates (which JSON readers reject) replaced by U+FFFD; StateDict never names such globals."""
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def mapped(module, name):
    """Python 2 names as the C unpickler maps them (fix_imports): NAME_MAPPING first, then IMPORT_MAPPING."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class Pid:
    def __init__(self, pid):
        self.pid = pid


class Oracle(pickle.Unpickler):
    def __init__(self, file):
        # torch.load passes encoding='utf-8' unless told otherwise (BINSTRING and friends decode as UTF-8).
        super().__init__(file, encoding="utf-8")
        self.globals = []
        self.types = {}

    def find_class(self, module, name):
        self.globals.append([plain(module), plain(name)])
        m, n = mapped(plain(module), plain(name))
        # One object per name, as a module attribute is (two GLOBALs of one name are one dict key, one set item).
        return self.types.setdefault((m, n), type("G", (GlobalBase,), {"module": m, "name": n}))

    def persistent_load(self, pid):
        return Pid(pid)


def text(s):
    out = ['"']
    for unit in struct.unpack("<%dH" % (len(s.encode("utf-16-le", "surrogatepass")) // 2), s.encode("utf-16-le", "surrogatepass")):
        c = chr(unit)
        if 0x20 <= unit < 0x7F and c not in '"\\':
            out.append(c)
        else:
            out.append("\\u%04x" % unit)
    out.append('"')
    return "".join(out)


class Budget(Exception):
    pass


def canon(value):
    """The canonical text of an unpickled value; Canon.cs writes the same text for the .NET VM's value."""
    count = [0]
    path = set()

    def walk(v, depth):
        count[0] += 1
        if count[0] > MAX_NODES or depth > MAX_DEPTH:
            raise Budget()
        if isinstance(v, type) and issubclass(v, GlobalBase):
            return "G" + text(v.module + "." + v.name)
        key = id(v)
        if key in path:
            return "<cycle>"
        if isinstance(v, (list, tuple, dict, set, frozenset, Recorded, Pid)):
            path.add(key)
        try:
            return node(v, depth)
        finally:
            path.discard(key)

    def seq(items, depth):
        return ",".join(walk(i, depth + 1) for i in items)

    def node(v, depth):
        if v is None:
            return "None"
        if v is True:
            return "True"
        if v is False:
            return "False"
        if type(v) is int:
            return "i" + str(v)
        if type(v) is float:
            return "f" + struct.pack(">d", v).hex()
        if type(v) is str:
            return text(v)
        if type(v) is bytes:
            return "b'" + v.hex() + "'"
        if type(v) is bytearray:
            return "ba'" + v.hex() + "'"
        if type(v) is tuple:
            return "(" + seq(v, depth) + ")"
        if type(v) is list:
            return "[" + seq(v, depth) + "]"
        if type(v) is dict:
            return "{" + ",".join(walk(k, depth + 1) + ":" + walk(x, depth + 1) for k, x in v.items()) + "}"
        if type(v) in (set, frozenset):
            prefix = "set" if type(v) is set else "frozenset"
            return prefix + "{" + ",".join(sorted(walk(i, depth + 1) for i in v)) + "}"
        if type(v) is Pid:
            return "P(" + walk(v.pid, depth + 1) + ")"
        if isinstance(v, Recorded):
            parts = [walk(v.callable, depth + 1), "(" + seq(v.args, depth) + ")"]
            if v.kwargs is not None:
                parts.append("kw=" + "{" + ",".join(text(k) + ":" + walk(x, depth + 1) for k, x in v.kwargs.items()) + "}")
            if v.states:
                parts.append("st=[" + seq(v.states, depth) + "]")
            if v.items:
                parts.append("si=[" + ",".join(walk(k, depth + 1) + ":" + walk(x, depth + 1) for k, x in v.items) + "]")
            if v.appends:
                parts.append("ap=[" + seq(v.appends, depth) + "]")
            return "C" + v.kind + "(" + ";".join(parts) + ")"
        return "?" + type(v).__name__

    return walk(value, 0)


def run(file):
    unpickler = Oracle(file)
    result = {"globals": unpickler.globals, "ok": False}
    try:
        ARMED[0] = True
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        try:
            value = unpickler.load()
        finally:
            ARMED[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        result["ok"] = True
        try:
            result["root"] = canon(value)
        except Budget:
            result["root"] = "<too big>"
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - every failure of the unpickler is an answer
        result["error"] = plain(type(e).__name__ + ": " + str(e)[:300])
    return result


def main():
    signal.signal(signal.SIGALRM, _on_alarm)
    # CPython prints some errors of the unpickler's clean-up straight to sys.stderr (e.g. "SystemError: deallocated
    # bytearray object has exported buffers" after a truncated BYTEARRAY8): not answers, and noise in CI logs. A crash
    # of the oracle itself still shows, as "the oracle process died" in the answers.
    sys.unraisablehook = lambda unraisable: None
    sys.stderr = open(os.devnull, "w")
    sys.setrecursionlimit(20_000)
    # A forged length or memo index (CPython sizes its memo array from the largest one) must fail fast as MemoryError
    # here, not take the machine's memory: 256 MiB is far more than any input of the lane needs.
    resource.setrlimit(resource.RLIMIT_AS, (256 << 20, 256 << 20))
    scratch = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else "/tmp", "statedict-dfuzz-oracle-%d.pkl" % os.getpid())
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            header = stdin.read(4)
            if len(header) < 4:
                return
            (length,) = struct.unpack("<I", header)
            data = stdin.read(length)
            answer = {"bytesio": run(io.BytesIO(data))}
            with open(scratch, "wb") as f:
                f.write(data)
            with open(scratch, "rb") as f:
                answer["file"] = run(f)
            out = json.dumps(answer, ensure_ascii=True, default=repr).encode("utf-8")
            stdout.write(struct.pack("<I", len(out)) + out)
            stdout.flush()
    finally:
        try:
            os.remove(scratch)
        except OSError:
            pass


if __name__ == "__main__":
    main()
