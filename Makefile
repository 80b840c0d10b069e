# The two commands a newcomer needs (see README.md):
#   make demo    install what is missing, build, run the bundled example
#   make check   install what is missing, build, run the whole test suite
# plus `make bench` for the benchmarks (`make bench-callgrind` for their
# instruction counts under valgrind), `make bench-k8s` for the service
# load balancer against kube-proxy's rules, and `make verifier-diff` for
# Sluice's verifier against the kernel's on 100,000 generated programs.
# CMake does the real work.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build demo check bench bench-callgrind bench-k8s verifier-diff clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	@examples/demo.sh $(BUILD)/sluice

check: deps
	@scripts/check.sh

bench:
	@scripts/deps.sh --bench
	cmake -S . -B $(BUILD)-bench -DCMAKE_BUILD_TYPE=Release -DSLUICE_BENCH=ON >/dev/null
	cmake --build $(BUILD)-bench -j$(JOBS) --target bench

bench-callgrind:
	@scripts/deps.sh --bench
	cmake -S . -B $(BUILD)-bench -DCMAKE_BUILD_TYPE=Release -DSLUICE_BENCH=ON >/dev/null
	cmake --build $(BUILD)-bench -j$(JOBS) --target bench_jit
	@bench/callgrind.sh $(BUILD)-bench/bench/bench_jit

bench-k8s:
	@scripts/deps.sh --bench-k8s
	cmake -S . -B $(BUILD)-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD)-bench -j$(JOBS) --target sluice
	@bench/k8s/run.sh $(BUILD)-bench/sluice $(BUILD)-bench/bench-k8s

verifier-diff: deps
	@scripts/verifier-diff.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-bench build-check
