#!/usr/bin/env bash
# The Java -> JavaCPP -> CUDA kernels round trip on a GPU machine that has no Java and no Maven.
#
#   native/scripts/gpu-stage.sh build [DIR]   # here (no GPU needed): DIR (default stage/gpu, git-ignored) gets a
#                                             #   jlink'd JRE 17 and the jars the probe needs (~20 MB), from the
#                                             #   current Java build (make java)
#   native/scripts/gpu-stage.sh probe [DIR] [cuda|emulated]
#                                             # there (make gpu-check calls it when DIR exists): unpacks the JRE
#                                             #   into /tmp and runs dev.fcos4j.nativ.CudaProbe: the packaged cuda
#                                             #   flavour, loaded through JavaCPP, against the Java reference on every
#                                             #   fixture and on R-50 head shapes. `emulated` runs the same probe on
#                                             #   the emulated flavour: a dry run of the stage on a machine without GPU.
# On the device: run(command="make gpu-check", carry=["stage/gpu"]).
#
# The TensorRT backend's GPU tests (TensorRtGpuTest) need far more (TensorRT, ONNX Runtime, OpenCV: ~330 MB packed),
# more than one device call carries, so they travel in parts, one folder per call:
#   native/scripts/gpu-stage.sh build-trt [DIR]   # here: DIR (default stage/trt) gets 01/, 02/, ... each one part
#                                                 #   of <= 55 MB (Java payload, then TensorRT's libraries)
#   native/scripts/gpu-stage.sh receive [DIR]     # there, once per call: keeps the carried parts in /tmp/fcos4j-stage
#   native/scripts/gpu-stage.sh trt-test          # there, after the last part: unpacks, finds CUDA/cuDNN, runs
#                                                 #   dev.fcos4j.tensorrt.GpuTestMain; log in benchmarks/results/
# A machine is given back 30 s after a call ends, and its /tmp with it: send the calls back to back
# (docs/TENSORRT-JAVA.md, "Running the GPU tests on a lent machine").
set -euo pipefail
received=/tmp/fcos4j-stage
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cmd="${1:-}"
dir="${2:-stage/gpu}"
case "$cmd" in
  build)
    native_jar=$(ls java/fcos4j-native/target/fcos4j-native-*[0-9T].jar 2>/dev/null | head -1 || true)
    core_jar=$(ls java/fcos4j-core/target/fcos4j-core-*[0-9T].jar 2>/dev/null | head -1 || true)
    [ -n "$native_jar" ] && [ -n "$core_jar" ] && [ -d java/fcos4j-native/target/test-classes ] \
      || { echo "gpu-stage: no Java build found: run make java first" >&2; exit 2; }
    unzip -l "$native_jar" | grep -q 'linux-x86_64/cuda/libfcos4j.so.0' \
      || { echo "gpu-stage: $native_jar holds no cuda flavour (built without nvcc?)" >&2; exit 2; }
    rm -rf "$dir"; mkdir -p "$dir/lib"
    cp "$native_jar" "$core_jar" "$dir/lib/"
    jar cf "$dir/lib/fcos4j-native-probe.jar" -C java/fcos4j-native/target/test-classes .
    # The test class path, less what the probe never loads (ONNX Runtime, OpenCV, OpenBLAS: ~100 MB).
    mvn -B -ntp -q -pl java/fcos4j-native dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile="$root/$dir/classpath.txt" >/dev/null
    tr ':' '\n' < "$dir/classpath.txt" | grep '\.jar$' | grep -v -e onnxruntime -e /opencv/ -e /openblas/ -e /fcos4j- \
      | while read -r j; do cp "$j" "$dir/lib/"; done
    rm "$dir/classpath.txt"
    bash ../shared/tools/trt-stage jre "$dir" >/dev/null 2>&1 || {
      # Outside this workplace (no ../shared): the same jlink by hand.
      tmp=$(mktemp -d)
      jlink --add-modules java.base,jdk.unsupported,java.logging,java.management,java.xml --strip-debug \
            --no-header-files --no-man-pages --output "$tmp/jre17"
      tar cf - -C "$tmp" jre17 | xz -9 -T0 > "$dir/jre17.tar.xz"; rm -rf "$tmp"; }
    git rev-parse --short HEAD > "$dir/commit" 2>/dev/null || true
    du -sh "$dir"; ls "$dir/lib" ;;
  probe)
    flavour="${3:-cuda}"
    [ -f "$dir/jre17.tar.xz" ] || { echo "gpu-stage: no stage in $dir (run gpu-stage.sh build here first)" >&2; exit 2; }
    jre=$(mktemp -d)
    tar xJf "$dir/jre17.tar.xz" -C "$jre"
    echo "stage built at commit $(cat "$dir/commit" 2>/dev/null || echo unknown); probing the $flavour flavour"
    # No fcos4j.native.dir: the flavour comes out of the fcos4j-native jar, as for a user.
    rc=0
    out=$("$jre/jre17/bin/java" -cp "$dir/lib/*" -Dfcos4j.root="$root" dev.fcos4j.nativ.CudaProbe compare "$flavour" 2>&1) || rc=$?
    rm -rf "$jre"
    echo "$out"
    # The probe prints RESULT compared only when every case matched; "no CUDA device" is a failure here.
    [ "$rc" -eq 0 ] && grep -q '^RESULT compared' <<<"$out" || { echo "gpu-stage: probe FAILED (exit $rc)"; exit 1; } ;;
  build-trt)
    dir="${2:-stage/trt}"
    trt_jar=$(ls java/fcos4j-tensorrt/target/fcos4j-tensorrt-*[0-9T].jar 2>/dev/null | head -1 || true)
    core_tests=$(ls java/fcos4j-core/target/fcos4j-core-*-tests.jar 2>/dev/null | head -1 || true)
    [ -n "$trt_jar" ] && [ -n "$core_tests" ] && [ -f java/fcos4j-tensorrt/target/test-classes/dev/fcos4j/tensorrt/GpuTestMain.class ] \
      || { echo "gpu-stage: no Java build of fcos4j-tensorrt with its tests: run make java first" >&2; exit 2; }
    work=$(mktemp -d); mkdir -p "$work/payload/lib"
    cp "$trt_jar" "$core_tests" java/fcos4j-core/target/fcos4j-core-*[0-9T].jar "$work/payload/lib/"
    jar cf "$work/payload/lib/fcos4j-tensorrt-gputests.jar" -C java/fcos4j-tensorrt/target/test-classes .
    mvn -B -ntp -q -pl java/fcos4j-tensorrt dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile="$work/classpath.txt" >/dev/null
    tr ':' '\n' < "$work/classpath.txt" | grep '\.jar$' | grep -v -e /fcos4j- -e redist | while read -r j; do
      case "$j" in
        */onnxruntime-*.jar)  # its natives for four platforms: keep Linux x64's
          mkdir -p "$work/ort" && (cd "$work/ort" && unzip -q "$j" -x 'ai/onnxruntime/native/linux-aarch64/*' \
            'ai/onnxruntime/native/osx-*' 'ai/onnxruntime/native/win-*') && jar cf "$work/payload/lib/$(basename "$j")" -C "$work/ort" . ;;
        *) cp "$j" "$work/payload/lib/" ;;
      esac
    done
    jlink --add-modules java.base,java.desktop,java.logging,java.management,java.xml,jdk.unsupported \
          --strip-debug --no-header-files --no-man-pages --output "$work/payload/jre17"
    rm -rf "$dir"; mkdir -p "$dir"
    tar cf - -C "$work/payload" . | zstd -10 -T0 -q | split -b 55M - "$work/java.part-"
    if [ "${FCOS4J_STAGE_NO_TENSORRT:-}" != 1 ]; then
      bash ../shared/tools/trt-stage parts "$work" >/dev/null
    fi
    i=0
    for part in "$work"/java.part-* "$work"/trt.part-*; do
      [ -f "$part" ] || continue
      i=$((i + 1)); sub=$(printf '%s/%02d' "$dir" "$i"); mkdir -p "$sub"; mv "$part" "$sub/"
    done
    git rev-parse --short HEAD > "$dir/01/commit" 2>/dev/null || true
    rm -rf "$work"
    du -sh "$dir"/*; echo "send one folder per call: carry [\"$dir/NN\"], command: bash native/scripts/gpu-stage.sh receive $dir" ;;
  receive)
    dir="${2:-stage/trt}"
    mkdir -p "$received"
    find "$dir" -type f \( -name 'java.part-*' -o -name 'trt.part-*' -o -name commit \) -exec cp {} "$received"/ \;
    ls -l "$received" ;;
  trt-test)
    ls "$received"/java.part-* >/dev/null 2>&1 || { echo "gpu-stage: no Java parts in $received" >&2; exit 2; }
    base=/tmp/fcos4j-trt; rm -rf "$base"; mkdir -p "$base/java" "$base/trt"
    cat "$received"/java.part-* | zstd -d -q | tar xf - -C "$base/java"
    if ls "$received"/trt.part-* >/dev/null 2>&1; then
      cat "$received"/trt.part-* | zstd -d --long=27 -q | tar xf - -C "$base/trt"
      for f in "$base"/trt/lib*.so.*; do b=${f%%.so.*}.so; [ -e "$b" ] || ln -s "$(basename "$f")" "$b"; done
    else
      echo "gpu-stage: no TensorRT parts received: the tests will fail to load libnvinfer"
    fi
    # CUDA's own libraries (cudart, cuBLAS, NVRTC) and cuDNN: the toolkit's, else Python's nvidia-* wheels.
    libs="$base/trt"
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$d" ] && libs="$libs:$d"; done
    if command -v python3 >/dev/null; then
      wheels=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(os.path.join(d, "*", "lib", "lib*.so*"))})))' 2>/dev/null || true)
      [ -n "$wheels" ] && libs="$libs:$wheels"
    fi
    stamp="$(date -u +%Y-%m-%dT%H%MZ)"; log="${FCOS4J_GPU_LOG:-benchmarks/results/gpu-trt-java-${stamp}.txt}"
    mkdir -p "$(dirname "$log")"
    echo "stage built at commit $(cat "$received/commit" 2>/dev/null || echo unknown); nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>&1 | head -1)" | tee "$log"
    rc=0
    LD_LIBRARY_PATH="$libs:${LD_LIBRARY_PATH:-}" "$base/java/jre17/bin/java" -Djava.library.path="$libs" \
      -Dfcos4j.root="$root" -cp "$base/java/lib/*" dev.fcos4j.tensorrt.GpuTestMain 2>&1 | tee -a "$log" || rc=$?
    [ -n "${OUT:-}" ] && cp "$log" "$OUT/" || true
    echo "wrote $log"
    exit $rc ;;
  *) sed -n '2,28p' "$0"; exit 2 ;;
esac
