# The two commands of the README: `make demo` and `make test`. Both set up what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup build demo test bench clean
all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/sluice

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
