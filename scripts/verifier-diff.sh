#!/bin/sh
# scripts/verifier-diff.sh [BUILD [COUNT [SEED]]]
#
# Sluice's verifier against the running kernel's on COUNT (100,000) programs
# from tests/verifier/vgen.c, starting at SEED (1): builds kernel_diff in
# BUILD (build), runs it as root, and writes each disagreement (program and
# both logs) to BUILD/verifier-diff/; every program Sluice accepts also runs
# 100 times in the checked interpreter.  Exit 0 when the agreement reaches
# the issue's 98% and Sluice accepts nothing the kernel rejects (but what
# the kernel's own log shows it rejected without ground); 77 when the
# kernel refuses bpf().
set -eu

build=${1:-build}
count=${2:-100000}
seed=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)

[ -f "$build/CMakeCache.txt" ] ||
	cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target kernel_diff
rm -rf "$build/verifier-diff"
exec "$build/tests/verifier/kernel_diff" --count "$count" --seed "$seed" --min-agree 98 --runs 100 \
	--out "$build/verifier-diff"
