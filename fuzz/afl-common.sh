# Shared by fuzz/run.sh and fuzz/Differential/run.sh (sourced, not run): the tools, the instrumented build, the corpus
# carried over from the previous run, and one nice'd afl-fuzz instance with the environment a shared machine needs.

# AFL++ from Debian, and SharpFuzz's CLI as a local tool in $1.
afl_install_tools() {
    local tools=$1 sudo
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    if ! command -v afl-fuzz >/dev/null; then
        echo "== installing afl++"
        $sudo apt-get update -q && $sudo apt-get install -y -q afl++
    fi
    if [ ! -x "$tools/sharpfuzz" ]; then
        echo "== installing SharpFuzz.CommandLine"
        dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools"
    fi
}

# Builds project $1 in Release into artifacts folder $2 (never the obj/bin folders other builds use), then copies its
# output $3 to $4 and instruments StateDict.dll only there (not SharpZipLib, not System.*), so every run starts from the build.
afl_build_instrumented() {
    local project=$1 build=$2 out=$3 inst=$4 tools=$5
    echo "== building $(basename "$project" .csproj)"
    dotnet build "$project" -c Release --artifacts-path "$build" -nologo -v q -clp:ErrorsOnly
    echo "== instrumenting StateDict.dll"
    rm -rf "$inst" && mkdir -p "$inst" && cp -r "$out/." "$inst/"
    "$tools/sharpfuzz" "$inst/StateDict.dll"
}

# Each run starts afresh in findings $2 from the corpus $1 plus the previous run's queue (unless FRESH=1), so coverage
# carries over; the previous findings, crashes and hangs included, move to findings.DATE.
afl_carry_over() {
    local corpus=$1 findings=$2 f b
    if [ -d "$findings" ]; then
        if [ "${FRESH:-0}" != 1 ] && [ -d "$findings/default/queue" ]; then
            for f in "$findings"/default/queue/id:*; do
                b=$(basename "$f")
                cp "$f" "$corpus/queue-${b:3:6}"
            done
        fi
        mv "$findings" "$findings.$(date +%Y%m%d-%H%M%S)"
    fi
    echo "== corpus: $(ls "$corpus" | wc -l) inputs"
}

# One afl-fuzz instance for $1 seconds over corpus $2 into findings $3 with dictionary $4, target `dotnet $5`.
# Sets afl_status to afl-fuzz's exit status.
afl_run() {
    local budget=$1 corpus=$2 findings=$3 dict=$4 target=$5
    export AFL_SKIP_CPUFREQ=1                      # shared machine: leave the CPU governor alone
    export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 # core_pattern may pipe to a handler we don't own
    export AFL_SKIP_BIN_CHECK=1                    # the target is `dotnet`, not an AFL-compiled binary
    export AFL_NO_AFFINITY=1                       # don't pin a core other engineers need
    export AFL_FORKSRV_INIT_TMOUT=60000            # .NET startup under load can take seconds
    export AFL_SKIP_CRASHES=1                      # tolerate a seed that crashes (e.g. a queue entry before a fix)
    export AFL_NO_UI=1                             # plain log lines (runs in the background)
    export DOTNET_GCHeapHardLimit=${HEAP_LIMIT:-0x40000000}
    export DOTNET_TieredPGO=0
    echo "== fuzzing for $budget s"
    set +e
    timeout --signal=INT $((budget + 600)) nice -n "${NICE:-10}" \
        afl-fuzz -i "$corpus" -o "$findings" -x "$dict" -t "${TIMEOUT_MS:-5000}" -m none -V "$budget" -- dotnet "$target"
    afl_status=$?
    set -e
}
