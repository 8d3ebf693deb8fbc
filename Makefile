# The README's two commands:
#   make run   — install what is missing (Debian 12), build, start the agent (default config)
#   make test  — install what is missing, build, run the whole suite (unit, kernel integration, fuzz)
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?=
AGENT_ARGS ?=

.PHONY: all deps build run test unit integration fuzz bench eval clean format

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Build output goes to stderr: stdout carries nothing but the agent's JSON lines.
run:
	@$(MAKE) --no-print-directory build >&2
	@$(BUILD)/privwatch agent $(if $(CONFIG),--config $(CONFIG),) $(AGENT_ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

fuzz: build
	cd $(BUILD) && ctest --output-on-failure -L fuzz

bench: build
	bash bench/run.sh

# Baselines evaluation (tools/orgsim): false positives, recall, delay, memory, events/s.
eval: build
	bash bench/eval/run.sh

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')

clean:
	rm -rf $(BUILD)
