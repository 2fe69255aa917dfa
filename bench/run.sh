#!/usr/bin/env bash
# The load benchmark in one command: build Load.Bench (Release), write the checkpoints with PyTorch if missing,
# print one markdown table per checkpoint. See bench/README.md.
#
#   bench/run.sh [--scale S] [--dir D] [--runs N] [--artifacts-path P] [Load.Bench options...]
#   bench/run.sh [--scale S] [--dir D] --bdn [BenchmarkDotNet options...]
#
#   --scale S          size of the GPT-2 files relative to the full 2.04 GB one (default 1; 0.05 makes ~108 MB for a smoke test)
#   --dir D            where the checkpoints live (default /tmp/statedict-bench, or /tmp/statedict-bench-sS when scaled)
#   --runs N           runs per row; the table shows medians (default 3)
#   --artifacts-path P build into P instead of the projects' bin/ and obj/ folders
#   --bdn ...          instead of the table, the BenchmarkDotNet micro-benchmarks on small20k.pth (arguments go to BenchmarkDotNet)
# Any other option goes to Load.Bench: --modes open,copy,copy-seq,copy-managed,mmap-open,mmap  --files a.pth,b.pth
# --python /path/to/python3|none  --touch pages|bytes
# Environment: PYTHON (default /usr/bin/python3) writes the checkpoints and runs torch.load.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
python="${PYTHON:-/usr/bin/python3}"
scale=1
dir=""
runs=3
artifacts=""
bdn=0
torch_python=""
rest=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --artifacts-path) artifacts="$2"; shift 2 ;;
    --python) torch_python="$2"; shift 2 ;;
    --bdn) bdn=1; shift; rest+=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) rest+=("$1"); shift ;;
  esac
done
if [[ -z "$dir" ]]; then
  if [[ "$scale" == "1" || "$scale" == "1.0" ]]; then dir=/tmp/statedict-bench; else dir="/tmp/statedict-bench-s$scale"; fi
fi

project="$here/Load.Bench/StateDict.Load.Bench.csproj"
build=(dotnet build "$project" -c Release -nologo -v quiet)
if [[ -n "$artifacts" ]]; then
  build+=(--artifacts-path "$artifacts")
  out="$artifacts/bin/StateDict.Load.Bench/release"
else
  out="$here/Load.Bench/bin/Release/net10.0"
fi
echo "building Load.Bench (Release)..." >&2
"${build[@]}" >&2

echo "checkpoints in $dir (scale $scale)..." >&2
"$python" "$here/make_checkpoints.py" "$dir" --scale "$scale" >&2

if [[ $bdn == 1 ]]; then
  # BenchmarkDotNet builds its own host project from the .csproj it finds under the working directory.
  cd "$here/Load.Bench"
  STATEDICT_BENCH_DIR="$dir" exec dotnet "$out/StateDict.Load.Bench.dll" --bdn "${rest[@]}"
fi
exec dotnet "$out/StateDict.Load.Bench.dll" --dir "$dir" --runs "$runs" --python "${torch_python:-$python}" "${rest[@]}"
