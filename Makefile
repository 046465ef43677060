# fcos4j top-level build.
#   make          builds everything (Java modules, native library: emulated flavour, CUDA flavour when nvcc exists)
#   make test     runs every test that needs no GPU (ctest + Maven)
#   make demo     the main job: detects on samples/chelsea.png on the CPU, writes JSON + an annotated PNG
#   make bench    JMH benchmarks (results under benchmarks/results/)
#   make bench-peers  the same post-processing vs torchvision / mmdet re-statement on the CPU, same inputs
SHELL := /bin/bash
MVN ?= mvn -B -ntp
PYTHON ?= /usr/bin/python3
MODELS ?= models
OUT ?= out
NATIVE_BUILD ?= build/native
CMAKE_ARGS ?=
DEMO_IMAGE ?= samples/chelsea.png
DEMO_MODEL ?= $(MODELS)/fcos_r50_torchvision.onnx
TINY_MODEL ?= $(MODELS)/tiny-fcos.onnx
CLI_CP = java/fcos4j-cli/target/lib/*:java/fcos4j-cli/target/classes

.PHONY: all java native test test-java test-native test-engines test-parity demo bench bench-pipeline bench-peers bench-batch-threads goldens-check models tiny-model r50-model clean gpu-check gpu-stage test-gpu-stage

all: native java

# The Java build links the JNI binding against the native build (java/fcos4j-native), so native comes first.
java: native
	$(MVN) -q install -DskipTests -Dfcos4j.native.dir=$(CURDIR)/$(NATIVE_BUILD)

native:
	cmake -S native -B $(NATIVE_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	cmake --build $(NATIVE_BUILD) -j2

test: test-native test-java test-engines test-gpu-stage test-parity

test-native: native
	ctest --test-dir $(NATIVE_BUILD) --output-on-failure --timeout 600 -LE gpu

test-java: native
	$(MVN) install -Dfcos4j.native.dir=$(CURDIR)/$(NATIVE_BUILD)

# The Python side of engines/: exporter plumbing, the FcosDetect node, the parity judge, the post-processing
# oracles (after test-java: some run the fcos4j command line).
ENGINE_TESTS ?= $(wildcard engines/export/test_*.py engines/parity/test_*.py)
test-engines:
	@for t in $(ENGINE_TESTS); do echo "== $$t"; FCOS4J_PARITY_BACKENDS=reference,emulated $(PYTHON) $$t || exit 1; done

# Parity with torchvision end to end (image -> boxes): torchvision's own FCOS pipeline vs fcos4j's CPU pipeline
# on the exported model of the same seeded weights, on the sample image and the COCO images of ../shared
# (when present). The class bias is raised so that every image has many detections (up to the 100 cap).
PARITY_MODEL ?= $(MODELS)/fcos_r50_torchvision_parity.onnx
PARITY_BIAS ?= 0.7
PARITY_IMAGES ?= $(DEMO_IMAGE) $(wildcard ../shared/data/coco-images/images)
PARITY_REPORT ?= $(OUT)/parity/report.json
$(PARITY_MODEL): engines/export/export_torchvision.py
	@mkdir -p $(MODELS)
	$(PYTHON) engines/export/export_torchvision.py --out $@ --raise-cls-bias $(PARITY_BIAS)

test-parity: $(PARITY_MODEL)
	@ls java/fcos4j-cli/target/fcos4j-cli-*.jar >/dev/null 2>&1 || $(MAKE) java
	$(PYTHON) engines/export/parity_torchvision.py --raise-cls-bias $(PARITY_BIAS) --model $(PARITY_MODEL) \
	  --out $(OUT)/parity/torchvision.json --report $(PARITY_REPORT) $(PARITY_IMAGES)

# The demo model: torchvision's FCOS R-50-FPN with seeded (untrained) weights, exported into the contract.
# Its class bias is raised a little so that an untrained network produces a few boxes: they are meaningless.
$(DEMO_MODEL): engines/export/export_torchvision.py
	@mkdir -p $(MODELS)
	@$(PYTHON) -c 'import torch, torchvision, onnx' 2>/dev/null || { \
	  echo "make: exporting the demo model needs Debian's python3-torchvision and python3-onnx:" >&2; \
	  echo "      sudo apt-get install python3-torchvision python3-onnx   (or: make demo DEMO_MODEL=$(TINY_MODEL))" >&2; exit 1; }
	$(PYTHON) engines/export/export_torchvision.py --out $@ --raise-cls-bias 0.4

# A tiny contract model of the FCOS architecture, written by Java alone (used by tests and as a fallback).
$(TINY_MODEL):
	@mkdir -p $(MODELS)
	java -cp '$(CLI_CP)' dev.fcos4j.model.TinyFcosModel --out $@ --seed 1 --classes 80

# Regenerates the torchvision goldens with torchvision itself and compares them with the committed ones.
goldens-check:
	$(PYTHON) engines/goldens/torchvision/generate.py --check

tiny-model: java $(TINY_MODEL)
r50-model: $(DEMO_MODEL)
models: tiny-model r50-model

demo: java $(DEMO_MODEL)
	@mkdir -p $(OUT)/demo
	bin/fcos4j detect --model $(DEMO_MODEL) --out $(OUT)/demo $(DEMO_IMAGE)
	@echo "demo: detections in $(OUT)/demo/detections.json and $(OUT)/demo/coco_results.json," \
	      "annotated image in $(OUT)/demo/$(basename $(notdir $(DEMO_IMAGE))).png"

BENCH_CP = benchmarks/target/classes:benchmarks/target/lib/*
BENCH_ARGS ?=
# Post-processing on R-50 head shapes (few/dense x conventions), with the allocation profiler.
bench: java
	java -Dfcos4j.bench.out=benchmarks/results/postprocess-jmh.json -cp '$(BENCH_CP)' dev.fcos4j.bench.BenchMain $(BENCH_ARGS)

# Pre-/post-processing share of the CPU end-to-end time with the R-50 network in ONNX Runtime.
bench-pipeline: java $(DEMO_MODEL)
	java -Dfcos4j.bench.out=benchmarks/results/pipeline-jmh.json -Dfcos4j.bench.model=$(DEMO_MODEL) \
	  -cp '$(BENCH_CP)' dev.fcos4j.bench.BenchMain PipelineBenchmark $(BENCH_ARGS)

# fcos4j's Java post-processing side by side with torchvision's FCOS post-processing and the mmdet re-statement
# (engines/parity/oracle_mmdet.py) on the same head maps, same run; dated result file under benchmarks/results/.
# PEERS_ARGS=--quick for a smoke run (no result file).
PEERS_ARGS ?=
# One thread vs two sharing a batch of 8 R-50 maps (needs bench-peers' inputs in out/bench-peers).
bench-batch-threads: java
	@ls out/bench-peers/few.npz >/dev/null 2>&1 || $(MAKE) bench-peers PEERS_ARGS=--quick
	java -Dfcos4j.bench.out=benchmarks/results/batch-threads-jmh.json -cp '$(BENCH_CP)' dev.fcos4j.bench.BenchMain \
	  PeerSideBySideBenchmark -p dir=out/bench-peers -p batch=8 -p threads=1,2 -bm avgt $(BENCH_ARGS)

bench-peers:
	$(MVN) -q -pl benchmarks -am package -DskipTests
	$(PYTHON) benchmarks/peers/postprocess_side_by_side.py $(PEERS_ARGS)

# On a machine with an NVIDIA GPU: kernels vs host reference on the device, compute-sanitizer, dated result
# file under benchmarks/results/ (commit it). See native/scripts/gpu-check.sh.
gpu-check:
	bash native/scripts/gpu-check.sh

# Here, before a GPU session: a JRE and the jars of the Java round trip, in stage/gpu (git-ignored; carry `stage`).
gpu-stage: java
	bash native/scripts/gpu-stage.sh build stage/gpu

# The stage's dry run on this machine: the same probe on the emulated flavour (CI keeps the stage from rotting).
# Then the TensorRT tests' Java payload, without TensorRT: every gpu test must be found and fail with the typed
# "no CUDA driver" error (a missing jar or class would fail differently).
test-gpu-stage:
	@ls java/fcos4j-native/target/fcos4j-native-*.jar >/dev/null 2>&1 || $(MAKE) java
	bash native/scripts/gpu-stage.sh build stage/gpu
	bash native/scripts/gpu-stage.sh probe stage/gpu emulated
	rm -rf /tmp/fcos4j-stage && FCOS4J_STAGE_NO_TENSORRT=1 bash native/scripts/gpu-stage.sh build-trt stage/trt-dry
	bash native/scripts/gpu-stage.sh receive stage/trt-dry >/dev/null
	@mkdir -p $(OUT); OUT= FCOS4J_GPU_LOG=$(OUT)/trt-dry-run-result.txt bash native/scripts/gpu-stage.sh trt-test > $(OUT)/trt-dry-run.log 2>&1; \
	  grep -q '11 tests found' $(OUT)/trt-dry-run.log && grep -q '11 tests failed' $(OUT)/trt-dry-run.log \
	  && [ $$(grep -c '^FAILED .*no CUDA driver (libcuda.so.1)' $(OUT)/trt-dry-run.log) -eq 11 ] \
	  && echo "TensorRT stage dry run: 11 gpu tests found, each stopped at the missing driver" \
	  || { tail -60 $(OUT)/trt-dry-run.log; echo "TensorRT stage dry run FAILED"; exit 1; }
	rm -rf stage/trt-dry
	@# gpu-check itself, dry: configure and build without the emulated flavour (as on a GPU machine without Boost),
	@# every GPU test found and reporting itself skipped, the Java probe stopping at the missing driver.
	@command -v nvcc >/dev/null || { echo "gpu-check dry run skipped: no nvcc"; exit 0; }; \
	FCOS4J_GPU_CHECK_DRY_RUN=1 FCOS4J_GPU_LOG=$(OUT)/gpu-check-dry.txt GPU_BUILD=build/gpu-dry \
	  bash native/scripts/gpu-check.sh > $(OUT)/gpu-check-dry.out 2>&1; \
	  ok=$$(awk '/^\$$ cmake /{getline; while ($$0 !~ /^\(exit/) getline; if ($$0 == "(exit 0)") n++} END {print n+0}' $(OUT)/gpu-check-dry.txt); \
	  [ "$$ok" -eq 2 ] && [ $$(grep -c 'no CUDA device: skipped' $(OUT)/gpu-check-dry.txt) -ge 4 ] \
	  && grep -q 'RESULT NoCudaDeviceException' $(OUT)/gpu-check-dry.txt && grep -q '^RESULT: FAIL' $(OUT)/gpu-check-dry.txt \
	  && echo "gpu-check dry run: configured and built without emulation, 4+ GPU tests found, probe reached the driver check" \
	  || { tail -40 $(OUT)/gpu-check-dry.txt; echo "gpu-check dry run FAILED"; exit 1; }

clean:
	$(MVN) -q clean; rm -rf build $(OUT)
