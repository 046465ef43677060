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
# On the device: run(command="make gpu-check", carry=["stage"]). The stage holds no TensorRT: the TensorRT backend's
# GPU tests need ../shared/tools/trt-stage's parts as well (docs/TENSORRT-JAVA.md).
set -euo pipefail
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
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
