#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench_jit's comparison counted instead of timed: host instructions per run
# of each program on each user-space engine, from valgrind's callgrind,
# side by side.  Counts do not move with the machine's load.
#
#     bench/callgrind.sh [BENCH_JIT [RUNS]]
#
# For each program and engine, bench_jit --iterations RUNS runs the program
# RUNS times (count_program) and then its baseline, the empty program, as
# many times (count_baseline); callgrind counts the two functions apart.
# Each cell is (program - baseline) / RUNS: what the program adds to a run,
# as the kernel column of bench_jit is measured.  The kernel's JIT cannot be
# counted: callgrind sees user space only.
set -eu

bench=${1:-build-bench/bench/bench_jit}
runs=${2:-2000}
engines="interp jit rte rte-jit native"

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$bench" ] || { echo "callgrind.sh: no $bench (make bench builds it)" >&2; exit 1; }
programs=$("$bench" --help | sed -n 's/^programs://p')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Inclusive instruction count of one function in a callgrind profile (or of
# the compiler's specialised copy of it, NAME.isra.0 and the like).
inclusive() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		awk -v fn="$2" '$0 ~ ":" fn "[ .]" { gsub(/,/, "", $1); print $1; exit }'
}

echo "Host instructions per run (callgrind), less the empty program's; $runs runs each"
echo "'-': the engine does not take the program (librte_bpf: loops, maps)"
printf '\n%-12s' program
for e in $engines; do printf ' %9s' "$e"; done
printf ' %10s %10s\n' jit/native interp/jit
for p in $programs; do
	printf '%-12s' "$p"
	jit= native= interp=
	for e in $engines; do
		profile="$out/$p.$e"
		if ! valgrind --tool=callgrind --callgrind-out-file="$profile" \
			--toggle-collect='count_program*' --toggle-collect='count_baseline*' \
			"$bench" --iterations "$runs" --engine "$e" --program "$p" \
			>/dev/null 2>"$out/log"; then
			if grep -q "librte_bpf cannot run" "$out/log"; then
				printf ' %9s' -
				continue
			fi
			cat "$out/log" >&2
			exit 1
		fi
		program=$(inclusive "$profile" count_program)
		baseline=$(inclusive "$profile" count_baseline)
		per_run=$(( (program - baseline) / runs ))
		printf ' %9d' "$per_run"
		case $e in
		interp) interp=$per_run ;;
		jit) jit=$per_run ;;
		native) native=$per_run ;;
		esac
	done
	awk -v j="$jit" -v n="$native" -v i="$interp" \
		'BEGIN { printf " %9.2fx %9.2fx\n", j / n, i / j }'
done
