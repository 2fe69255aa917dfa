#!/usr/bin/env bash
# Fuzzes Checkpoint.Open + ReadBytes with AFL++ and SharpFuzz for BUDGET_SECONDS (default 1800). See fuzz/README.md.
#
#   bash fuzz/run.sh 1800            # seeds + the previous run's queue; the previous findings move to findings.DATE
#   FRESH=1 bash fuzz/run.sh 600     # seeds only (the previous findings still move to findings.DATE)
#
# One afl-fuzz instance only (the machine is shared). Environment knobs: FRESH, NICE (default 10), HEAP_LIMIT
# (hex bytes for DOTNET_GCHeapHardLimit, default 0x40000000 = 1 GiB: a bigger allocation is an OutOfMemoryException
# and so a crash), TIMEOUT_MS (afl -t, default 5000).
set -euo pipefail

BUDGET=${1:-1800}
FUZZ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$FUZZ")
TOOLS=$FUZZ/.tools
BUILD=$FUZZ/.build
OUT=$BUILD/bin/StateDict.Fuzz/release
INST=$BUILD/instrumented
CORPUS=$FUZZ/corpus
FINDINGS=$FUZZ/findings
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

# (a) AFL++
if ! command -v afl-fuzz >/dev/null; then
    echo "== installing afl++"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q afl++
fi

# (b) the SharpFuzz CLI, as a local tool
if [ ! -x "$TOOLS/sharpfuzz" ]; then
    echo "== installing SharpFuzz.CommandLine"
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$TOOLS"
fi

# (c) the harness, in Release, with its own artifacts (never the obj/bin folders other builds use)
echo "== building the harness"
dotnet build "$FUZZ/StateDict.Fuzz.csproj" -c Release --artifacts-path "$BUILD" -nologo -v q -clp:ErrorsOnly

# (d) instrument StateDict.dll only (not SharpZipLib, not System.*), in a copy, so every run starts from the build
echo "== instrumenting StateDict.dll"
rm -rf "$INST" && mkdir -p "$INST" && cp -r "$OUT/." "$INST/"
"$TOOLS/sharpfuzz" "$INST/StateDict.dll"

# (e) seeds: the small PyTorch fixtures plus tiny hand-made checkpoints
rm -rf "$CORPUS" && mkdir -p "$CORPUS"
for f in "$ROOT"/tests/fixtures/*.pth "$ROOT"/tests/fixtures/*.pt "$ROOT"/tests/fixtures/*.pkl; do
    # Skip the big ones (mobilenet_v3_small.pth is 6 MB, digits_*.pth 40-120 kB of tensor bytes): AFL mutates them slowly.
    [ "$(stat -c %s "$f")" -le 16384 ] && cp "$f" "$CORPUS/"
done
dotnet "$OUT/StateDict.Fuzz.dll" --seeds "$CORPUS" >/dev/null
echo "== corpus: $(ls "$CORPUS" | wc -l) seeds"

# (f) fuzz. Each run starts afresh in fuzz/findings from the seeds plus the previous run's queue (so coverage carries
# over and new seeds are picked up); the previous findings, crashes and hangs included, move to findings.DATE.
if [ -d "$FINDINGS" ]; then
    if [ "${FRESH:-0}" != 1 ] && [ -d "$FINDINGS/default/queue" ]; then
        for f in "$FINDINGS"/default/queue/id:*; do
            b=$(basename "$f")
            cp "$f" "$CORPUS/queue-${b:3:6}"
        done
        echo "== corpus: $(ls "$CORPUS" | wc -l) inputs with the previous queue"
    fi
    mv "$FINDINGS" "$FINDINGS.$(date +%Y%m%d-%H%M%S)"
fi
export AFL_SKIP_CPUFREQ=1                      # shared machine: leave the CPU governor alone
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 # core_pattern may pipe to a handler we don't own
export AFL_SKIP_BIN_CHECK=1                    # the target is `dotnet`, not an AFL-compiled binary
export AFL_NO_AFFINITY=1                       # don't pin a core other engineers need
export AFL_FORKSRV_INIT_TMOUT=60000            # .NET startup under load can take seconds
export AFL_SKIP_CRASHES=1                      # tolerate a seed that crashes (e.g. a queue entry before a fix)
export AFL_NO_UI=1                             # plain log lines (runs in the background)
export DOTNET_GCHeapHardLimit=${HEAP_LIMIT:-0x40000000}
export DOTNET_TieredPGO=0
echo "== fuzzing for $BUDGET s"
set +e
timeout --signal=INT $((BUDGET + 600)) nice -n "${NICE:-10}" \
    afl-fuzz -i "$CORPUS" -o "$FINDINGS" -x "$FUZZ/pickle.dict" -t "${TIMEOUT_MS:-5000}" -m none -V "$BUDGET" \
    -- dotnet "$INST/StateDict.Fuzz.dll"
status=$?
set -e
# The harness deletes its /dev/shm input file on exit, but not when a crash or AFL's kill ends it.
for f in /dev/shm/statedict-fuzz-*.pth; do
    pid=${f##*-}; pid=${pid%.pth}
    [ -e "$f" ] && ! kill -0 "$pid" 2>/dev/null && rm -f "$f"
done

# (g) summary
STATS=$FINDINGS/default/fuzzer_stats
echo "== summary (afl-fuzz exited $status)"
if [ -f "$STATS" ]; then
    grep -E '^(start_time|last_update|run_time|execs_done|execs_per_sec|corpus_count|paths_total|corpus_found|paths_found|saved_crashes|unique_crashes|saved_hangs|unique_hangs|bitmap_cvg|stability) ' "$STATS"
fi
count() { find "$FUZZ" -path "*/findings*/default/$1*/id:*" -type f 2>/dev/null | wc -l; }
echo "crash inputs (all runs): $(count crashes)   hang inputs (all runs): $(count hangs)"
echo "triage: dotnet $OUT/StateDict.Fuzz.dll $FINDINGS*/default/crashes*/id:* $FINDINGS*/default/hangs*/id:*"
exit $status
