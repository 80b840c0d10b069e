#!/bin/sh
# The whole test suite, twice: a normal build (gcc) and a sanitizer build
# (clang, ASan + UBSan, with the libFuzzer targets run for a bounded time).
# Ends with one line: "check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
status=0

run_suite() { # name build-dir cmake-args...
	name=$1 dir=$2
	shift 2
	echo "== $name: configure and build ($dir)"
	if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.log" 2>&1 ||
	   ! cmake --build "$dir" -j"$JOBS" >>"$dir.log" 2>&1; then
		tail -40 "$dir.log"
		echo "== $name: build FAILED (log: $dir.log)"
		total_fail=$((total_fail + 1))
		status=1
		return
	fi
	echo "== $name: tests"
	(cd "$dir" && ctest --output-on-failure -j"$JOBS") | tee "$dir.ctest.log"
	rc=$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' "$dir.ctest.log" | tail -1)
	failed=$(echo "$rc" | sed -E 's/.*passed, ([0-9]+) tests failed.*/\1/')
	all=$(echo "$rc" | sed -E 's/.*out of ([0-9]+)/\1/')
	if [ -z "$rc" ]; then
		total_fail=$((total_fail + 1))
		status=1
		return
	fi
	total_pass=$((total_pass + all - failed))
	total_fail=$((total_fail + failed))
	[ "$failed" -eq 0 ] || status=1
}

mkdir -p build-check
run_suite "normal build" build-check/gcc -DCMAKE_C_COMPILER=gcc
run_suite "sanitizer build" build-check/asan -DCMAKE_C_COMPILER=clang \
	-DSLUICE_SANITIZE=ON -DSLUICE_FUZZ=ON
echo "check: $total_pass passed, $total_fail failed"
exit $status
