#!/bin/sh
# `sluice profile` end to end.
#  1. A BPF program in Sluice's runtime (--runtime): its functions, call
#     chain and source lines in the folded stacks and the flame graph.
#  2. The kernel path on a busy process (busy.c): its call chain, named,
#     in order, for --pid and for --all; without CAP_SYSLOG, kernel frames
#     unnamed ([kernel]) and the reason said.
#  3. A real refusal: the same command as an unprivileged user, whom the
#     kernel refuses perf_event and bpf(), falls back to the runtime and
#     says so.
# usage: test_profile.sh SLUICE BUSY SPIN.bpf.o PCAP XMLLINT
# (exit 77, with the reason, where the kernel path cannot be tested)
set -u
sluice=$1 busy=$2 spin=$3 pcap=$4 xmllint=$5
tmp=$(mktemp -d)
child=
cleanup() {
	[ -n "$child" ] && kill "$child" 2> /dev/null && wait "$child" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err; do [ -f "$f" ] && sed "s|^|$(basename "$f"): |" "$f"; done
	exit 1
}
has() { grep -q -- "$2" "$tmp/$1" || fail "$1 has no line matching '$2'"; }
valid_svg() { "$xmllint" --noout "$tmp/$1" || fail "$1 is not well-formed XML"; }
runtime_args="--runtime $spin --prog spin_xdp --pcap $pcap"

# 1. the runtime, asked for
"$sluice" profile $runtime_args --duration 1 --frequency 499 -o "$tmp/rt.svg" --folded "$tmp/rt.folded" \
	> "$tmp/rt.out" 2> "$tmp/rt.err" || fail "profile --runtime failed"
valid_svg rt.svg
has rt.err "asked for the runtime: sampling program spin_xdp .* SIGPROF at 499 Hz"
has rt.out "samples, .* distinct stacks; flame graph in"
has rt.folded '^sluice;spin_xdp;spin_rounds;spin_mix;spin.bpf.c:[0-9]* [0-9]*$'
has rt.svg '<title>spin_mix ([0-9]* samples, [0-9.]*%)</title>'
echo "runtime: $(head -1 "$tmp/rt.out")"

# 2. the kernel
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the kernel path needs root (the runtime path passed)"
	exit 77
fi
"$busy" 30 &
child=$!
"$sluice" profile --pid "$child" --duration 1 --frequency 499 -o "$tmp/k.svg" \
	--folded "$tmp/k.folded" > "$tmp/k.out" 2> "$tmp/k.err"
status=$?
if grep -q "the kernel refused" "$tmp/k.err"; then
	echo "SKIP: kernel path: $(head -1 "$tmp/k.err")"
	exit 77
fi
[ "$status" -eq 0 ] || fail "profile --pid exited $status"
valid_svg k.svg
has k.err "kernel sampling: perf_event cpu-clock at 499 Hz"
has k.folded '^profile_busy;.*main;busy_outer;busy_middle;busy_inner;busy_spin [0-9]*$'
has k.svg '<title>busy_spin ('
echo "kernel --pid: $(head -1 "$tmp/k.out")"

"$sluice" --json profile --all --duration 0.5 -o "$tmp/all.svg" > "$tmp/all.out" 2> "$tmp/all.err" ||
	fail "profile --all failed"
valid_svg all.svg
has all.out '"mode": *"kernel"'
has all.svg '<title>busy_spin ('

# 2b. kernel frames without names: kallsyms shows zeros to a process without
# CAP_SYSLOG (unless perf_event_paranoid <= 1 lets it read them anyway)
if setpriv --bounding-set=-syslog --inh-caps=-syslog true 2> /dev/null; then
	setpriv --bounding-set=-syslog --inh-caps=-syslog "$sluice" profile --all --duration 0.5 \
		-o "$tmp/nk.svg" --folded "$tmp/nk.folded" > "$tmp/nk.out" 2> "$tmp/nk.err" ||
		fail "profile --all without CAP_SYSLOG failed"
	valid_svg nk.svg
	if grep -q "kernel frames are not named" "$tmp/nk.err"; then
		has nk.folded '\[kernel\]_\[k\]'
		echo "kernel frames without kallsyms: $(grep -c '\[kernel\]_\[k\]' "$tmp/nk.folded") stacks marked [kernel]"
	elif grep -q '\[kernel\]_\[k\]' "$tmp/nk.folded"; then
		fail "kernel frames marked [kernel] without saying why"
	fi
fi

# 3. a real refusal
if ! command -v setpriv > /dev/null; then
	echo "SKIP: no setpriv to run the fallback as an unprivileged user"
	exit 77
fi
chmod 711 "$tmp" && mkdir "$tmp/nobody" && chmod 777 "$tmp/nobody"
setpriv --reuid=65534 --regid=65534 --clear-groups "$sluice" profile --pid "$child" \
	--duration 1 -o "$tmp/nobody/fb.svg" $runtime_args > "$tmp/fb.out" 2> "$tmp/fb.err"
status=$?
if ! grep -q "the kernel refused" "$tmp/fb.err"; then
	echo "SKIP: this kernel lets an unprivileged user sample: no refusal to fall back from"
	exit 77
fi
[ "$status" -eq 0 ] || fail "the fallback exited $status"
has fb.err "falling back: sampling program spin_xdp of .* in Sluice's user-space runtime"
valid_svg nobody/fb.svg
has nobody/fb.svg '<title>spin_mix ('
echo "fallback: $(head -1 "$tmp/fb.err")"
exit 0
