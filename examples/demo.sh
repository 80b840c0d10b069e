#!/bin/bash
# The bundled example: assemble, disassemble and run small packet programs,
# show what checked mode catches, run the bpf_conformance suite in the
# interpreter and the JIT, show a clang-compiled object, verify it, run it
# in the user-space runtime on a capture (and in the kernel, as root, for
# comparison), then (as root) the Kubernetes service load-balancing demo in
# network namespaces.
# usage: examples/demo.sh [path/to/sluice]
set -eu
cd "$(dirname "$0")/.."
SLUICE=${1:-build/sluice}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
CONFORMANCE=../shared/conformance/tests

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
packet() { tr -d '\n' <"examples/packets/$1.hex"; }
# The packets as binary files and as one pcap capture (little-endian, Ethernet).
bytes() { printf "$(tr -d ' \n' | sed 's/../\\x&/g')"; }
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
capture() {
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0'"$(le32 65535)$(le32 1)"
	for p in "$@"; do
		len=$(($(tr -d ' \n' <"examples/packets/$p.hex" | wc -c) / 2))
		printf '\x01\0\0\0\0\0\0\0'"$(le32 $len)$(le32 $len)"
		bytes <"examples/packets/$p.hex"
	done
}

step "Assemble a packet filter (IPv4 TCP to port 80 -> 1, else 0) into bytecode"
show "$SLUICE" asm examples/port_filter.s -o "$OUT/port_filter.bin"
printf '%s bytes = %s instructions\n' "$(wc -c <"$OUT/port_filter.bin")" \
	"$(($(wc -c <"$OUT/port_filter.bin") / 8))"

step "Disassemble it, kernel/llvm style"
show "$SLUICE" disasm --style=llvm "$OUT/port_filter.bin"

step "Run it on three packets (r0 is the verdict)"
for p in tcp-syn-port80 udp-dns truncated; do
	printf '%-16s -> ' "$p"
	"$SLUICE" run "$OUT/port_filter.bin" --mem "$(packet $p)"
done

step "Verify an IPv4 header checksum with a loop (0 means correct)"
show "$SLUICE" run examples/ipv4_csum.s --mem "$(packet udp-dns)"
show "$SLUICE" --json run examples/ipv4_csum.s --mem "$(packet tcp-syn-port80)"

step "Checked mode: the same filter with its two length checks deleted, on the truncated packet"
grep -v -e 'jlt %r2, 34' -e 'jgt %r5, %r2' examples/port_filter.s >"$OUT/unchecked.s"
printf '$ %s\n' "$SLUICE run unchecked.s --checked --mem <truncated packet>"
if "$SLUICE" run "$OUT/unchecked.s" --checked --mem "$(packet truncated)"; then
	echo "checked mode missed an out-of-bounds read" >&2
	exit 1
fi
echo "(stopped before reading past the packet; exit status 1)"

step "The bpf_conformance suite ($CONFORMANCE)"
if [ -d "$CONFORMANCE" ]; then
	show "$SLUICE" conformance "$CONFORMANCE"
	show "$SLUICE" conformance --checked "$CONFORMANCE"
else
	echo "not found beside this checkout; skipped"
fi

step "The JIT: the same suite compiled to x86-64"
if [ -d "$CONFORMANCE" ]; then
	show "$SLUICE" conformance --engine jit "$CONFORMANCE"
fi

step "A real clang-compiled object: what the loader finds in it"
OBJ=$(dirname "$SLUICE")/examples/bpf/xdp_filter.o
if [ -f "$OBJ" ]; then
	show "$SLUICE" obj show "$OBJ"
else
	echo "$OBJ not built; skipped"
fi

step "The verifier: the object is safe; a program that reads past the packet is not"
if [ -f "$OBJ" ]; then
	show "$SLUICE" verify "$OBJ"
	printf '$ %s\n' "$SLUICE verify unsafe.o"
	if "$SLUICE" verify "$(dirname "$OBJ")/unsafe.o"; then
		echo "the verifier accepted an unsafe program" >&2
		exit 1
	fi
fi

step "The user-space runtime: the XDP program on a capture, a verdict per packet, maps after"
if [ -f "$OBJ" ]; then
	capture tcp-syn-port80 udp-dns truncated tcp-syn-port80 >"$OUT/demo.pcap"
	show "$SLUICE" run "$OBJ" --prog xdp_filter --pcap "$OUT/demo.pcap" --pcap-out "$OUT/passed.pcap"
	bytes <examples/packets/udp-dns.hex >"$OUT/udp-dns.bin"
	show "$SLUICE" test-run "$OBJ" --prog xdp_filter --data-in "$OUT/udp-dns.bin" --engine jit --repeat 1000
	if [ "$(id -u)" -eq 0 ]; then
		echo "(the same in the kernel, through BPF_PROG_TEST_RUN)"
		show "$SLUICE" test-run "$OBJ" --prog xdp_filter --data-in "$OUT/udp-dns.bin" --backend kernel --repeat 1000
	fi
fi

step "Kubernetes service load balancing in the kernel (examples/k8s-demo.sh)"
if [ "$(id -u)" -eq 0 ]; then
	examples/k8s-demo.sh "$SLUICE"
else
	echo "needs root (network namespaces, bpf()); run: sudo examples/k8s-demo.sh $SLUICE"
fi
