#!/usr/bin/env bash
# Unpacks libnvinfer.so.10 and libnvinfer_plugin.so.10 (TensorRT 10.15, linux-x86_64) from the JavaCPP TensorRT
# redist jar into a directory (default: <repo>/build/tensorrt-redist) for the plugin ABI test and the DCN
# registry test (libnvinfer_plugin needs libnvinfer.so.10 next to it). The jar (~534 MB) is resolved
# once into the local Maven repository; later runs only unzip. No GPU needed.
#   native/tests/plugin/fetch_tensorrt_redist.sh [dest-dir]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/../../../build/tensorrt-redist}"
artifact="org.bytedeco:tensorrt:10.15-1.5.13:jar:linux-x86_64-redist"
m2="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
jar="$m2/org/bytedeco/tensorrt/10.15-1.5.13/tensorrt-10.15-1.5.13-linux-x86_64-redist.jar"
if [ ! -f "$jar" ]; then
  mvn -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get -Dtransitive=false -Dartifact="$artifact"
fi
mkdir -p "$dest"
for lib in libnvinfer.so.10 libnvinfer_plugin.so.10; do
  if [ ! -s "$dest/$lib" ]; then
    unzip -j -o -q "$jar" "org/bytedeco/tensorrt/linux-x86_64/$lib" -d "$dest"
  fi
done
echo "$dest/libnvinfer.so.10"
echo "$dest/libnvinfer_plugin.so.10"
