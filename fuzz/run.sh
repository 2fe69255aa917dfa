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

# (a)-(d) AFL++ and SharpFuzz, the harness built in Release and StateDict.dll instrumented (fuzz/afl-common.sh)
. "$FUZZ/afl-common.sh"
afl_install_tools "$TOOLS"
afl_build_instrumented "$FUZZ/StateDict.Fuzz.csproj" "$BUILD" "$OUT" "$INST" "$TOOLS"

# (e) seeds: the small PyTorch fixtures plus tiny hand-made checkpoints
rm -rf "$CORPUS" && mkdir -p "$CORPUS"
for f in "$ROOT"/tests/fixtures/*.pth "$ROOT"/tests/fixtures/*.pt "$ROOT"/tests/fixtures/*.pkl; do
    # Skip the big ones (mobilenet_v3_small.pth is 6 MB, digits_*.pth 40-120 kB of tensor bytes): AFL mutates them slowly.
    [ "$(stat -c %s "$f")" -le 16384 ] && cp "$f" "$CORPUS/"
done
dotnet "$OUT/StateDict.Fuzz.dll" --seeds "$CORPUS" >/dev/null
echo "== corpus: $(ls "$CORPUS" | wc -l) seeds"

# (f) fuzz, from the seeds plus the previous run's queue
afl_carry_over "$CORPUS" "$FINDINGS"
afl_run "$BUDGET" "$CORPUS" "$FINDINGS" "$FUZZ/pickle.dict" "$INST/StateDict.Fuzz.dll"
status=$afl_status
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
count() { find "$FUZZ" -path "$FUZZ/findings*/default/$1*/id:*" -type f 2>/dev/null | wc -l; }
echo "crash inputs (all runs): $(count crashes)   hang inputs (all runs): $(count hangs)"
echo "triage: dotnet $OUT/StateDict.Fuzz.dll $FINDINGS*/default/crashes*/id:* $FINDINGS*/default/hangs*/id:*"
exit $status
