#!/bin/sh
# `sluice load` and `sluice test-run` against the running kernel, on the
# examples: every example accepted but unsafe.o, which the verifier must
# reject with its message shown; xdp_filter run on real packets with its
# return value and output checked byte for byte; --json output; bad input.
# Exits 77 (a ctest skip) with the reason when the kernel refuses bpf().
# usage: test_kernel_cli.sh SLUICE EXAMPLES_BPF_DIR PACKETS_DIR
set -u
SLUICE=$1
EXAMPLES=$2
PACKETS=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# Runs sluice with the arguments, keeping its exit status and output.
sluice() {
	"$SLUICE" "$@" >"$TMP/out" 2>&1
	status=$?
}

# check STATUS REGEX WHAT: the last sluice run exited STATUS and printed a
# line matching REGEX (grep -E; "" for any output).
check() {
	if [ "$status" -ne "$1" ]; then
		echo "FAIL: $3: exit $status, expected $1:"
		sed 's/^/  /' "$TMP/out"
		failed=$((failed + 1))
	elif ! grep -Eq -- "$2" "$TMP/out"; then
		echo "FAIL: $3: no line matches '$2':"
		sed 's/^/  /' "$TMP/out"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
}

# A packet from its hex text (examples/packets/*.hex) as bytes, in plain sh.
packet() {
	for byte in $(cat "$PACKETS/$1.hex"); do
		printf "\\$(printf %03o "0x$byte")"
	done >"$TMP/$1.bin"
}

sluice load "$EXAMPLES/xdp_filter.o"
if grep -q "the kernel refused bpf()" "$TMP/out"; then
	echo "SKIP: $(cat "$TMP/out")"
	exit 77
fi

# Every example loads, except the one written to be unsafe.
accepted=0
for obj in "$EXAMPLES"/*.o; do
	name=$(basename "$obj")
	sluice load "$obj"
	if [ "$name" = unsafe.o ]; then
		check 1 "^xdp_unsafe \(xdp\): rejected" "$name rejected"
		check 1 "error: invalid access to packet" "$name: the verifier's message"
		check 1 "^  \| .*R[0-9] offset is outside of the packet" "$name: the log's tail"
		check 1 "1 program: 0 accepted, 1 rejected" "$name summary"
	else
		check 0 ", [0-9]+ insns processed, verified in [0-9]+ usec" "$name accepted"
		check 0 "program(s)?: [0-9]+ accepted, 0 rejected" "$name summary"
		accepted=$((accepted + 1))
	fi
done
[ "$accepted" -ge 5 ] || { echo "FAIL: only $accepted examples besides unsafe.o"; failed=$((failed + 1)); }

sluice load "$EXAMPLES/unsafe.o" --json
check 1 '^\{"file":.*"programs":\[\{"name":"xdp_unsafe","section":"xdp","accepted":false,' "load --json, rejected"
check 1 '"error":"invalid access to packet' "load --json: the error"
check 1 '"log":".*outside of the packet' "load --json: the log"
check 1 '"accepted":0,"rejected":1\}$' "load --json: the counts"
sluice load "$EXAMPLES/xdp_filter.o" --prog xdp_filter --json
check 0 '"accepted":true,"processed_insns":[0-9]+,"verification_time_usec":[0-9]+\}' "load --json, accepted"

# xdp_filter on packets: a TCP SYN passes unchanged, a truncated IPv4 header is dropped.
packet tcp-syn-port80
packet truncated
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter --data-in "$TMP/tcp-syn-port80.bin" \
	--data-out "$TMP/out.bin" --repeat 100
check 0 "^retval 2 \(0x2\)$" "test-run: XDP_PASS"
check 0 "^duration [0-9]+ ns \(mean of 100 runs\)$" "test-run: duration"
check 0 "^data_out 54 bytes, written to " "test-run: output size"
if cmp -s "$TMP/tcp-syn-port80.bin" "$TMP/out.bin"; then
	passed=$((passed + 1))
else
	echo "FAIL: test-run: the output packet differs from the input"
	failed=$((failed + 1))
fi
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter --data-in "$TMP/truncated.bin" --json
check 0 '^\{"prog":"xdp_filter","backend":"kernel","retval":1,"duration_ns":[0-9]+,"repeat":1,"data_out_size":30\}$' \
	"test-run --json: XDP_DROP"
# With a context: a struct xdp_md (24 bytes) whose data_end is the packet's 54.
printf '\0\0\0\0\066\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$TMP/xdp_md.bin"
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter --data-in "$TMP/tcp-syn-port80.bin" \
	--ctx-in "$TMP/xdp_md.bin"
check 0 "^retval 2 \(0x2\)$" "test-run --ctx-in"
sluice test-run "$EXAMPLES/tc_counter.o" --prog tc_count --data-in "$TMP/tcp-syn-port80.bin"
check 0 "^retval 0 \(0x0\)$" "test-run: a TC program, TC_ACT_OK"

# Bad input: one line, exit 1; bad usage: exit 2.
printf 'not an object' >"$TMP/text.o"
sluice load "$TMP/none.o"
check 1 "^sluice: .*none.o: No such file or directory$" "load: missing file"
sluice load "$TMP/text.o"
check 1 "^sluice: .*not a proper ELF object$" "load: not an ELF"
sluice load "$EXAMPLES/xdp_filter.o" --prog nope
check 1 "^sluice: .*no program 'nope' \(it has: xdp_filter\)$" "load: unknown program"
sluice load "$EXAMPLES/xdp_filter.o" --json --prog nope
check 1 '^\{"error":".*no program' "load --json: the error"
sluice load "$EXAMPLES/xdp_filter.o" --backend=sluice
check 2 "unknown backend 'sluice'" "load: unknown backend"
sluice load
check 2 "^usage: sluice load" "load: no file"
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter --data-in "$TMP/none.bin"
check 1 "^sluice: cannot open '.*none.bin': No such file or directory$" "test-run: unreadable data-in"
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog nope --data-in "$TMP/truncated.bin"
check 1 "no program 'nope'" "test-run: unknown program"
sluice test-run --backend kernel "$TMP/text.o" --prog xdp_filter --data-in "$TMP/truncated.bin"
check 1 "not a proper ELF object" "test-run: not an ELF"
sluice test-run --backend kernel "$EXAMPLES/unsafe.o" --prog xdp_unsafe --data-in "$TMP/truncated.bin"
check 1 "the kernel rejected it: invalid access to packet" "test-run: a rejected program"
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter --data-in "$TMP/truncated.bin" --repeat ten
check 2 "--repeat takes a number from 1 to [0-9]+, not 'ten'" "test-run: repeat not a number"
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter --data-in "$TMP/truncated.bin" --repeat 0
check 2 "--repeat takes a number" "test-run: repeat 0"
sluice test-run "$EXAMPLES/xdp_filter.o" --data-in "$TMP/truncated.bin"
check 2 "--prog NAME is required" "test-run: no --prog"
sluice test-run --backend kernel "$EXAMPLES/xdp_filter.o" --prog xdp_filter
check 2 "--data-in FILE is required" "test-run: no --data-in"

# bpf() refused: an unprivileged user, where the kernel keeps bpf() for the
# privileged (unprivileged_bpf_disabled), gets one clear line.
if command -v setpriv >/dev/null &&
   [ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null || echo 0)" != 0 ]; then
	chmod 711 "$TMP"
	cp "$SLUICE" "$TMP/sluice"
	chmod 755 "$TMP/sluice"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TMP/sluice" load "$TMP/text.o" >"$TMP/out" 2>&1
	status=$?
	check 1 "^sluice: the kernel refused bpf\(\): Operation not permitted$" "load: bpf() refused"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
