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

. "$FUZZ/afl-common.sh"
afl_install_tools "$TOOLS"
afl_build_instrumented "$HERE/StateDict.Fuzz.Differential.csproj" "$BUILD" "$OUT" "$INST" "$TOOLS"

rm -rf "$CORPUS" && mkdir -p "$CORPUS"
cp "$HERE"/seeds/* "$CORPUS/"
[ -d "$HERE/regressions" ] && cp "$HERE"/regressions/* "$CORPUS/" 2>/dev/null || true
afl_carry_over "$CORPUS" "$FINDINGS"
export DFUZZ_KNOWN=${DFUZZ_KNOWN-$HERE/known-open.txt}  # known-open classes do not count as crashes (set empty to count them)
afl_run "$BUDGET" "$CORPUS" "$FINDINGS" "$HERE/pickle-opcodes.dict" "$INST/StateDict.Fuzz.Differential.dll"
status=$afl_status

STATS=$FINDINGS/default/fuzzer_stats
echo "== summary (afl-fuzz exited $status)"
[ -f "$STATS" ] && grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg|stability) ' "$STATS"
echo "triage: dotnet $OUT/StateDict.Fuzz.Differential.dll --check $FINDINGS/default/crashes/id:*"
exit $status
