#!/bin/sh
# `sluice verify` end to end: verdicts and their statistics, the log of a
# rejection, --json, --type, exit codes (0 accepted, 1 rejected, 2 usage or
# bad input) and one-line errors.
# usage: test_verify_cli.sh SLUICE EXAMPLES_BPF_DIR
set -u
SLUICE=$1
EXAMPLES=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../lib/expect.sh"

printf 'mov %%r0, 0\nexit\n' >"$TMP/ok.s"
expect 0 "ok.s: accepted (2 insns processed, " "$SLUICE" verify "$TMP/ok.s"
expect 0 '"accepted":true' "$SLUICE" verify "$TMP/ok.s" --json
expect 0 '"insns_processed":2' "$SLUICE" --json verify "$TMP/ok.s"
"$SLUICE" asm "$TMP/ok.s" -o "$TMP/ok.bin"
expect 0 "ok.bin: accepted (2 insns processed, " "$SLUICE" verify "$TMP/ok.bin" --type xdp

# r0 is never set: rejected at the exit, pc 0
printf 'exit\n' >"$TMP/no_r0.s"
expect 1 "no_r0.s: rejected at pc 0" "$SLUICE" verify "$TMP/no_r0.s"
expect 1 "R0 !read_ok" "$SLUICE" verify "$TMP/no_r0.s"
expect 1 '"error_pc":0' "$SLUICE" verify "$TMP/no_r0.s" --json

# a socket filter may read skb->len (offset 0) but not XDP's data_meta slot as a u64
printf 'ldxw %%r0, [%%r1+0]\nexit\n' >"$TMP/len.s"
expect 0 "accepted" "$SLUICE" verify "$TMP/len.s" --type socket
expect 0 "accepted" "$SLUICE" verify "$TMP/len.s" --type sched_cls
printf 'ldxdw %%r0, [%%r1+8]\nexit\n' >"$TMP/meta64.s"
expect 1 "rejected at pc 0" "$SLUICE" verify "$TMP/meta64.s" --type xdp

# objects: every program, or the one --prog names
expect 0 "xdp_filter (xdp): accepted" "$SLUICE" verify "$EXAMPLES/xdp_filter.o"
expect 0 "tc_count (tc): accepted" "$SLUICE" verify "$EXAMPLES/tc_counter.o" --prog tc_count
expect 1 "xdp_unsafe (xdp): rejected at pc" "$SLUICE" verify "$EXAMPLES/unsafe.o"

# bad usage and bad input
expect 2 "cannot open '$TMP/missing.s'" "$SLUICE" verify "$TMP/missing.s"
expect 2 "unknown program type 'nope'" "$SLUICE" verify "$TMP/ok.s" --type nope
expect 2 "--log-level takes 0, 1 or 2, not '7'" "$SLUICE" verify "$TMP/ok.s" --log-level 7
expect 2 "--prog names a program of an object file" "$SLUICE" verify "$TMP/ok.s" --prog x
expect 2 "no program 'nope'" "$SLUICE" verify "$EXAMPLES/xdp_filter.o" --prog nope
expect 2 "expected one program or object file" "$SLUICE" verify
printf 'movv %%r0, 0\n' >"$TMP/bad.s"
expect 2 "bad.s:1:" "$SLUICE" verify "$TMP/bad.s"
printf '\001\002\003' >"$TMP/short.bin"
expect 2 "short.bin" "$SLUICE" verify "$TMP/short.bin"
printf 'not an object' >"$TMP/fake.o"
expect 2 '"error":' "$SLUICE" verify "$TMP/fake.o" --json

expect_summary
