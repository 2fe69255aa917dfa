#!/usr/bin/env bash
# The differential lane's CI run (called by .ci/run after the tests): every seed, every regression input and a fixed
# number of deterministic mutations (fixed RNG seed) through StateDict's pickle VM and CPython's C unpickler. No AFL.
# Fails (exit 1) on any divergence not listed in known-open.txt; skipped, with a note, only when there is no python3.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(dirname "$HERE")/.build-diff
MUTATIONS=${DFUZZ_MUTATIONS:-12000}
RNG_SEED=${DFUZZ_RNG_SEED:-20261202}

if [ -x /usr/bin/python3 ]; then
    export STATEDICT_ORACLE_PYTHON=/usr/bin/python3
elif command -v python3 >/dev/null 2>&1; then
    export STATEDICT_ORACLE_PYTHON=$(command -v python3)
else
    echo "differential lane: skipped (no python3 for the CPython oracle)"
    exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! dotnet build "$HERE/StateDict.Fuzz.Differential.csproj" -c Release --artifacts-path "$BUILD" -nologo -v q -clp:ErrorsOnly >"$log" 2>&1; then
    cat "$log"
    echo "differential lane: the harness does not build"
    exit 1
fi
timeout 300 dotnet "$BUILD/bin/StateDict.Fuzz.Differential/release/StateDict.Fuzz.Differential.dll" \
    --ci "$HERE/seeds" "$HERE/regressions" "$HERE/known-open.txt" "$MUTATIONS" "$RNG_SEED"
