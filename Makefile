# fcos4j top-level build. `make` builds everything, `make test` runs every test that needs no GPU,
# `make demo` runs the main job (CPU path) on the committed sample image.
SHELL := /bin/bash
MVN ?= mvn -B -ntp
PYTHON ?= /usr/bin/python3
MODELS ?= models

.PHONY: all java native test test-java test-native demo bench clean gpu-check

all: native java

java:
	$(MVN) -q install -DskipTests

native:
	@if [ -f native/CMakeLists.txt ]; then cmake -S native -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/native -j2; fi

test: test-native test-java

test-java:
	$(MVN) install

test-native: native
	@if [ -f native/CMakeLists.txt ]; then ctest --test-dir build/native --output-on-failure; fi

clean:
	$(MVN) -q clean; rm -rf build out
