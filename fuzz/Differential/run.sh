#!/usr/bin/env bash
# AFL++ over the differential harness for BUDGET_SECONDS (default 1800). See fuzz/README.md, "Differential lane".
#
#   bash fuzz/Differential/run.sh 1800          # seeds + the previous run's queue; previous findings move to findings.DATE
#   FRESH=1 bash fuzz/Differential/run.sh 600   # seeds only
#
# One afl-fuzz instance (the machine is shared), under nice. The target is the .NET driver, with StateDict.dll
# instrumented by SharpFuzz; each input also goes to one long-running /usr/bin/python3 oracle over a pipe. A
# divergence is an exception, so AFL saves it under findings/default/crashes. Knobs: FRESH, NICE (default 10),
# TIMEOUT_MS (afl -t, default 5000), DFUZZ_KNOWN (known-open list whose classes are not saved; default known-open.txt,
# empty to save every divergence), DFUZZ_IGNORE (comma-separated divergence kinds not to save).
set -euo pipefail

BUDGET=${1:-1800}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FUZZ=$(dirname "$HERE")
TOOLS=$FUZZ/.tools
BUILD=$FUZZ/.build-diff
OUT=$BUILD/bin/StateDict.Fuzz.Differential/release
INST=$BUILD/instrumented
CORPUS=$HERE/corpus
FINDINGS=$HERE/findings
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

if ! command -v afl-fuzz >/dev/null; then
    echo "== installing afl++"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q afl++
fi
if [ ! -x "$TOOLS/sharpfuzz" ]; then
    echo "== installing SharpFuzz.CommandLine"
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$TOOLS"
fi

echo "== building the differential harness"
dotnet build "$HERE/StateDict.Fuzz.Differential.csproj" -c Release --artifacts-path "$BUILD" -nologo -v q -clp:ErrorsOnly

echo "== instrumenting StateDict.dll"
rm -rf "$INST" && mkdir -p "$INST" && cp -r "$OUT/." "$INST/"
"$TOOLS/sharpfuzz" "$INST/StateDict.dll"

rm -rf "$CORPUS" && mkdir -p "$CORPUS"
cp "$HERE"/seeds/* "$CORPUS/"
[ -d "$HERE/regressions" ] && cp "$HERE"/regressions/* "$CORPUS/" 2>/dev/null || true
if [ -d "$FINDINGS" ]; then
    if [ "${FRESH:-0}" != 1 ] && [ -d "$FINDINGS/default/queue" ]; then
        for f in "$FINDINGS"/default/queue/id:*; do
            b=$(basename "$f")
            cp "$f" "$CORPUS/queue-${b:3:6}"
        done
    fi
    mv "$FINDINGS" "$FINDINGS.$(date +%Y%m%d-%H%M%S)"
fi
echo "== corpus: $(ls "$CORPUS" | wc -l) inputs"

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1
export AFL_FORKSRV_INIT_TMOUT=60000 AFL_SKIP_CRASHES=1 AFL_NO_UI=1
export DFUZZ_KNOWN=${DFUZZ_KNOWN-$HERE/known-open.txt}  # known-open classes do not count as crashes (set empty to count them)
export DOTNET_GCHeapHardLimit=${HEAP_LIMIT:-0x40000000} DOTNET_TieredPGO=0
echo "== fuzzing for $BUDGET s"
set +e
timeout --signal=INT $((BUDGET + 600)) nice -n "${NICE:-10}" \
    afl-fuzz -i "$CORPUS" -o "$FINDINGS" -x "$HERE/pickle-opcodes.dict" -t "${TIMEOUT_MS:-5000}" -m none -V "$BUDGET" \
    -- dotnet "$INST/StateDict.Fuzz.Differential.dll"
status=$?
set -e

STATS=$FINDINGS/default/fuzzer_stats
echo "== summary (afl-fuzz exited $status)"
[ -f "$STATS" ] && grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg|stability) ' "$STATS"
echo "triage: dotnet $OUT/StateDict.Fuzz.Differential.dll --check $FINDINGS/default/crashes/id:*"
exit $status
