# The two commands of the README: `make demo` and `make test`. Both set up what is missing first.
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)

.PHONY: all setup build demo test test-asan bench clean
all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/src/cli/sluice

# The unit tests under ASan/UBSan first, then the whole suite (its summary is the last one).
test: build test-asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

test-asan: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 300

bench: build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
