# The two commands of the README: `make demo` and `make test`. Both set up what is missing first.
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

.PHONY: all setup configure build build-sluice demo lint test test-asan test-fuzz bench clean
all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The demo needs the binary only, not the tests and benchmarks.
build-sluice: configure
	@cmake --build $(BUILD) -j $(JOBS) --target sluice

demo: build-sluice
	@bash scripts/demo.sh $(BUILD)/src/cli/sluice

# clang-format and clang-tidy over the tree (scripts/lint.sh); part of `make test`.
lint: build
	@bash scripts/lint.sh $(BUILD)

# Lint, the suite built with ASan/UBSan (so the e2e tests drive a sanitized binary) and the fuzz
# targets first, then the whole suite in the normal build (its summary is the last one).
test: build lint test-asan test-fuzz
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Under ASan/UBSan: every unit test and every e2e test except the crash matrices, which kill or
# power-cut the binary at each failpoint in turn. They replay the code paths the other e2e tests
# already drive under the sanitizers (a killed process reports nothing to ASan anyway), and they
# are most of the suite's time; they run in the normal build. Nor the tests of memory bounds under
# load (ASan's shadow memory and quarantine inflate what they measure, so they check the bound in
# the normal build only, and their load makes them the slowest tests under the sanitizers).
ASAN_EXCLUDE ?= ^(AllFailpoints|CommitSteps)/|^ServeMemory\.FloodStaysUnderTheMemoryLimit$$|^ParquetChunks\.MillionsOfRowsStayWithinTheMemoryLimit$$|^ServeNats\.ConsumerPausesUnderBackpressure$$
test-asan: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -E '$(ASAN_EXCLUDE)'

# libFuzzer targets (fuzz/README.md), built with clang, each run FUZZ_SECONDS on its seed corpus.
test-fuzz: setup
	@CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target contract_fuzz jsonl_fuzz csv_fuzz value_parser_fuzz
	@bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
