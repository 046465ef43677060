#!/usr/bin/env bash
# make gpu-check: on a machine with an NVIDIA GPU (CUDA toolkit, cmake, g++; no Java or TensorRT needed).
# Builds the CUDA flavour for the local GPU, runs the kernels against the host reference on the device
# (the same seeded cases the emulated flavour passes on CI, plus the R-50 shapes), runs compute-sanitizer
# memcheck, racecheck and synccheck on a reduced set, runs the Java -> JavaCPP -> kernels round trip from the
# stage that `make gpu-stage` prepares here (carry `stage/gpu`), and writes a dated result file under
# benchmarks/results/. Exit status: non-zero when any check failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
build="${GPU_BUILD:-build/gpu}"
stamp="$(date -u +%Y-%m-%dT%H%MZ)"
out="${FCOS4J_GPU_LOG:-benchmarks/results/gpu-check-${stamp}.txt}"
mkdir -p "$(dirname "$out")"
fail=0
log() { echo "$@" | tee -a "$out"; }
run() {  # run a command, log its output and status
  log "\$ $*"
  "$@" 2>&1 | tee -a "$out"
  local rc=${PIPESTATUS[0]}
  log "(exit $rc)"
  [ "$rc" -eq 0 ] || fail=1
  return 0
}
: > "$out"
log "fcos4j gpu-check, $stamp, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
# FCOS4J_GPU_CHECK_DRY_RUN=1: every step on a machine without a GPU (sm_90 build; the GPU tests then report
# themselves skipped and the result is FAIL): checks the script and the build, not the kernels.
dry="${FCOS4J_GPU_CHECK_DRY_RUN:-}"
if [ -n "$dry" ]; then
  log "DRY RUN: no GPU expected; GPU steps will fail or skip"
  cap=90
elif ! command -v nvidia-smi >/dev/null || ! nvidia-smi >/dev/null 2>&1; then
  log "no NVIDIA GPU / driver here: nothing to check"; exit 1
else
  run nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.[:space:]')"
fi
archs="${FCOS4J_CUDA_ARCHS:-$cap}"
run nvcc --version
# Without the emulated flavour: it needs Boost.Context, which a GPU machine may lack, and CI runs it anyway.
run cmake -S native -B "$build" -DCMAKE_BUILD_TYPE=Release -DFCOS4J_CUDA_ARCHS="$archs" -DFCOS4J_EMULATION=OFF
run cmake --build "$build" -j"$(nproc)"
# Kernels on the device vs the host reference (bit-equal fp32), then the rest of this build's tests (the plugin's).
run ctest --test-dir "$build" -L gpu --output-on-failure --timeout 1200 -V
# ctest counts a test that found no device (exit 77) as skipped, not failed: here that is a failure.
if grep -q -e '\*\*\*Skipped' -e '(Skipped)' -e 'Not Run' "$out"; then log "a GPU test was skipped or not run: FAIL"; fail=1; fi
run ctest --test-dir "$build" -LE gpu --output-on-failure --timeout 1200
# compute-sanitizer on reduced case counts (each tool slows kernels down by orders of magnitude).
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck synccheck; do
    for conv in 0 1 2; do
      run compute-sanitizer --tool "$tool" --error-exitcode 99 "$build/tests/fcos4j_test_random_gpu" "$conv" 40 "${conv}9"
    done
  done
  run compute-sanitizer --tool memcheck --error-exitcode 99 "$build/tests/fcos4j_test_r50_gpu" base
else
  log "compute-sanitizer not found: sanitizer checks NOT run"; fail=1
fi
# Java -> JavaCPP -> the packaged cuda flavour (the jar's build for sm_75..sm_120 + PTX, not the local build above).
if [ -f stage/gpu/jre17.tar.xz ]; then
  run bash native/scripts/gpu-stage.sh probe stage/gpu cuda
else
  log "no stage/gpu (make gpu-stage here, then carry stage/gpu): Java round trip NOT run"; fail=1
fi
log "RESULT: $([ $fail -eq 0 ] && echo PASS || echo FAIL)"
# On the device tool's machine only $OUT comes back: the result file goes there too (commit it here).
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then cp "$out" "$OUT/"; fi
echo "wrote $out"
exit $fail
