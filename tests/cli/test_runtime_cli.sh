#!/bin/bash
# The user-space runtime from the command line: test-run, run --pcap,
# --events, bpf_trace_printk, bad input (mode "offline", needs nothing);
# test-run against the kernel backend and attach, user space and kernel, on
# veth pairs in a network namespace of its own (mode "live", as root, exit
# 77 when refused).
# usage: test_runtime_cli.sh offline|live SLUICE EXAMPLES_DIR SCRIPT_PROG.o PKT_IO
set -u
MODE=$1 SLUICE=$2 EXAMPLES=$3 SCRIPT=$4 PKT_IO=$5
TMP=$(mktemp -d)
NS=""
cleanup() {
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
. "$(dirname "$0")/../lib/expect.sh"

# same 'what' A B: two strings must be equal
same() {
	if [ "$2" = "$3" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL: $1: '$2' != '$3'"
		fail=$((fail + 1))
	fi
}

# ---- packets and captures ---------------------------------------------------

zeros() { printf "%0$(($1 * 2))d" 0; }
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
# hex (spaces allowed) to bytes on stdout
bytes() { printf "$(printf '%s' "$1" | tr -d ' ' | sed 's/../\\x&/g')"; }
hexlen() { local h=${1// /}; echo $((${#h} / 2)); }
# pcap FILE LINKTYPE HEX...: a capture of those frames (snapshot length $SNAPLEN)
SNAPLEN=65535
pcap() {
	local file=$1 link=$2 h
	shift 2
	{
		bytes "d4c3b2a1 0200 0400 00000000 00000000 $(le32 $SNAPLEN) $(le32 "$link")"
		for h in "$@"; do
			bytes "01000000 00000000 $(le32 "$(hexlen "$h")") $(le32 "$(hexlen "$h")") $h"
		done
	} >"$file"
}

MACS="020000000002 020000000001"
SWAPPED="020000000001 020000000002"
# IPv4 UDP 10.0.0.1:12345 -> 10.0.0.2:17, 60 bytes
UDP17="$MACS 0800 4500002e 00000000 40110000 0a000001 0a000002 30390011 001a0000 $(zeros 18)"
UDP53="$MACS 0800 4500002e 00000000 40110000 0a000001 0a000002 30390035 001a0000 $(zeros 18)"
# an IPv4 header cut short: 20 bytes
TRUNC="$MACS 0800 45000014 0000"
ARP="$MACS 0806 00010800 06040001 020000000001 0a000001 000000000000 0a000002"
UDP6="$MACS 86dd 60000000 00081140 fe800000000000000000000000000001 fe800000000000000000000000000002 30390011 00080000"
# script frames (tests/cli/script_prog.c): verdict, then ifindex for a redirect
script() { echo "$MACS 88b5 $(printf %02x "$1")000000 $(le32 "${2:-0}") $(zeros 38)"; }
script_sent() { echo "$SWAPPED 88b5 $(printf %02x "$2")000000 $(le32 "${3:-0}") $(zeros 38)"; }

XDP=$EXAMPLES/xdp_filter.o
TC=$EXAMPLES/tc_counter.o
SOCK=$EXAMPLES/socket_filter.o
for p in UDP17 UDP53 TRUNC ARP UDP6; do bytes "${!p}" >"$TMP/$p.bin"; done
bytes "$(script 4 7)" >"$TMP/redirect.bin"
bytes "$(script 3)" >"$TMP/tx.bin"
printf '\001\002\003' >"$TMP/short.bin"

offline() {
	# test-run: retval, output bytes, the same on both engines
	expect 0 "retval 2 (0x2)" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/UDP17.bin" --data-out "$TMP/out.bin"
	expect 0 "" cmp "$TMP/UDP17.bin" "$TMP/out.bin"
	expect 0 '"backend":"userspace","engine":"interp","retval":2' "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/UDP17.bin" --json
	expect 0 '"data_out_size":60' "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/UDP17.bin" --json
	expect 0 '"engine":"jit","retval":2' "$SLUICE" test-run "$XDP" --prog xdp_filter --engine jit --data-in "$TMP/UDP17.bin" --json
	expect 0 "retval 1 (0x1)" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/TRUNC.bin"
	expect 0 "retval 2 (0x2)" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/ARP.bin" --repeat 10
	expect 0 "mean of 10 runs" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/UDP6.bin" --repeat 10
	# a redirect says where it went
	expect 0 "redirect ifindex 7" "$SLUICE" test-run "$SCRIPT" --prog xdp_script --data-in "$TMP/redirect.bin"
	expect 0 '"retval":4,' "$SLUICE" test-run "$SCRIPT" --prog xdp_script --data-in "$TMP/redirect.bin" --json
	expect 0 '"redirect_ifindex":7' "$SLUICE" test-run "$SCRIPT" --prog xdp_script --data-in "$TMP/redirect.bin" --json
	# TC: the context comes back with the mark the program set (0x5100 + UDP)
	expect 0 "retval 0 (0x0)" "$SLUICE" test-run "$TC" --prog tc_count --data-in "$TMP/UDP17.bin" --ctx-out "$TMP/ctx.out"
	same "tc_count's mark" "$(od -An -tx1 -j8 -N4 "$TMP/ctx.out" | tr -d ' ')" "11510000"
	# a socket filter sees the packet from its network header on: 46 bytes
	expect 0 "retval 46 (0x2e)" "$SLUICE" test-run "$SOCK" --prog udp_only --data-in "$TMP/UDP17.bin"
	expect 0 "retval 0 (0x0)" "$SLUICE" test-run "$SOCK" --prog udp_only --data-in "$TMP/UDP53.bin"

	# test-run's bad input: exit 1 with the reason, misuse exit 2
	expect 1 "xdp_filter.o" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/short.bin"
	expect 1 "xdp_filter.o" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/UDP17.bin" --ctx-in "$TMP/short.bin"
	expect 1 '"error":' "$SLUICE" test-run "$TC" --prog tc_count --data-in "$TMP/UDP17.bin" --ctx-in "$TMP/short.bin" --json
	expect 1 "cannot open '$TMP/none.bin'" "$SLUICE" test-run "$XDP" --prog xdp_filter --data-in "$TMP/none.bin"
	expect 1 "no program named 'nosuch'" "$SLUICE" test-run "$XDP" --prog nosuch --data-in "$TMP/UDP17.bin"
	expect 1 "$TMP/none.o" "$SLUICE" test-run "$TMP/none.o" --prog xdp_filter --data-in "$TMP/UDP17.bin"
	expect 2 "--prog NAME is required" "$SLUICE" test-run "$XDP" --data-in "$TMP/UDP17.bin"
	expect 2 "unknown backend 'warp'" "$SLUICE" test-run "$XDP" --prog xdp_filter --backend warp --data-in "$TMP/UDP17.bin"
	expect 2 "unknown engine 'warp'" "$SLUICE" test-run "$XDP" --prog xdp_filter --engine warp --data-in "$TMP/UDP17.bin"
	expect 2 "not the kernel" "$SLUICE" test-run "$XDP" --prog xdp_filter --backend kernel --engine jit --data-in "$TMP/UDP17.bin"

	# run --pcap: counts by the type's names, what passes written as left
	pcap "$TMP/mixed.pcap" 1 "$UDP17" "$TRUNC" "$ARP" "$UDP6" "$UDP53"
	expect 0 "5 packets" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --pcap-out "$TMP/passed.pcap"
	expect 0 "  XDP_DROP           1" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap"
	expect 0 "  XDP_PASS           4" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap"
	expect 0 "4 packets written to $TMP/passed.pcap" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --pcap-out "$TMP/passed.pcap"
	same "passed packets" "$("$PKT_IO" hex "$TMP/passed.pcap" | tr '\n' ' ')" \
		"$(for p in "$UDP17" "$ARP" "$UDP6" "$UDP53"; do printf '%s ' "${p// /}"; done)"
	expect 0 '"verdicts":{"XDP_DROP":1,"XDP_PASS":4},"written":4' "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --pcap-out "$TMP/passed.pcap" --json
	# the per-CPU stats: STAT_PASS (0) 4, STAT_DROP_MALFORMED (2) 1, STAT_IPV4 (3) 2
	expect 0 "map stats (percpu_array): 8 of 8 entries" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap"
	expect 0 '"name":"blocklist","type":"hash","entries":0,"max_entries":1024,"elements":[]' "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --json
	# (test runs are on CPU 0, the first of each key's values)
	for stat in '0","values":["0400000000000000"' '2","values":["0100000000000000"' '3","values":["0200000000000000"' \
		    '0","values":["0400000000000000",'; do
		expect 0 "\"key_btf\":\"$stat" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --json
	done
	# keys and values BTF describes are shown as it says, in JSON beside the hex
	expect 0 "    {saddr=16777226,daddr=33554442,proto=17,pad=[0,0,0]}: 2" "$SLUICE" run "$EXAMPLES/btf_maps.o" --prog xdp_router --pcap "$TMP/mixed.pcap"
	expect 0 '"key_btf":"{saddr=16777226,daddr=33554442,proto=17,pad=[0,0,0]}","value":"0200000000000000","value_btf":"2"}' "$SLUICE" run "$EXAMPLES/btf_maps.o" --prog xdp_router --pcap "$TMP/mixed.pcap" --json
	# TC and socket filters count by their names; a socket filter's kept
	# length is its Ethernet header and retval bytes.  Their test runs refuse
	# the cut IPv4 header, as the kernel's do: counted, said, exit 1.
	expect 1 "  TC_ACT_OK          4" "$SLUICE" run "$TC" --prog tc_count --pcap "$TMP/mixed.pcap"
	expect 1 "1 packet not run, the first: '$TMP/mixed.pcap': packet 2 (20 bytes): " "$SLUICE" run "$TC" --prog tc_count --pcap "$TMP/mixed.pcap"
	expect 1 '"TC_ACT_OK":4},"maps"' "$SLUICE" run "$TC" --prog tc_count --pcap "$TMP/mixed.pcap" --json
	expect 1 '"not_run":1,"error":"' "$SLUICE" run "$TC" --prog tc_count --pcap "$TMP/mixed.pcap" --json
	pcap "$TMP/whole.pcap" 1 "$UDP17" "$ARP" "$UDP6" "$UDP53"
	expect 0 "  dropped            3" "$SLUICE" run "$SOCK" --prog udp_only --pcap "$TMP/whole.pcap" --pcap-out "$TMP/kept.pcap"
	same "kept packet" "$("$PKT_IO" hex "$TMP/kept.pcap")" "${UDP17// /}"

	# --events: each record after the packet that wrote it (verdict, length,
	# ifindex: test runs come in on lo), trace lines on stderr
	pcap "$TMP/script.pcap" 1 "$(script 1)" "$(script 2)" "$(script 3)" "$(script 4 7)"
	expect 0 "event packet 1 ringbuf reports 12 bytes: 010000003c00000001000000" "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap" --events
	expect 0 "event packet 4 perf perf_reports cpu 0 12 bytes: 040000003c00000001000000" "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap" --events
	expect 0 '"events":[{"packet":1,"map":"reports","size":12,"data":"010000003c00000001000000"}' "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap" --events --json
	expect 0 "bpf_trace_printk: script verdict 3 len 60" "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap"
	expect 0 '"verdicts":{"XDP_DROP":1,"XDP_PASS":1,"XDP_TX":1,"XDP_REDIRECT":1},"written":3' "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap" --pcap-out "$TMP/sent.pcap" --json
	same "sent packets" "$("$PKT_IO" hex "$TMP/sent.pcap" | tr '\n' ' ')" \
		"$(for p in "$(script 2)" "$(script_sent 3 2)" "$(script_sent 4 2 7)"; do printf '%s ' "${p// /}"; done)"
	expect 0 "    1: 1" "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap"
	expect 0 '"verdicts":{"XDP_DROP":1,"XDP_PASS":1,"XDP_TX":1,"XDP_REDIRECT":1}' "$SLUICE" run "$SCRIPT" --prog xdp_script --pcap "$TMP/script.pcap" --engine jit --json
	# the raw-program form of run is untouched
	printf 'mov %%r0, 7\nexit\n' >"$TMP/seven.s"
	expect 0 "0x7" "$SLUICE" run "$TMP/seven.s"

	# run --pcap's bad input: the file, and the packet, named
	expect 1 "cannot open '$TMP/none.pcap'" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/none.pcap"
	expect 1 "cannot create '$TMP/no/out.pcap': No such file or directory" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --pcap-out "$TMP/no/out.pcap"
	head -c 10 "$TMP/mixed.pcap" >"$TMP/cut-header.pcap"
	expect 1 "'$TMP/cut-header.pcap': not a readable capture" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/cut-header.pcap"
	head -c 130 "$TMP/mixed.pcap" >"$TMP/cut-packet.pcap"
	expect 1 "'$TMP/cut-packet.pcap': packet 2: truncated" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/cut-packet.pcap"
	expect 1 '"error":"' "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/cut-packet.pcap" --json
	pcap "$TMP/raw.pcap" 101 "4500002e"
	expect 1 "link type RAW (12) is not Ethernet" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/raw.pcap"
	SNAPLEN=262144 pcap "$TMP/huge.pcap" 1 "$UDP17$(zeros 70000)"
	expect 1 "'$TMP/huge.pcap': packet 1: 70060 bytes captured, more than the 65535 a frame may have" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/huge.pcap"
	# within the frame limit: XDP runs it in fragments, an skb test run refuses it and says so
	pcap "$TMP/jumbo.pcap" 1 "$UDP17" "$UDP17$(zeros 9000)"
	expect 0 "  XDP_PASS           2" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/jumbo.pcap"
	expect 1 "'$TMP/jumbo.pcap': packet 2 (9060 bytes): " "$SLUICE" run "$TC" --prog tc_count --pcap "$TMP/jumbo.pcap"
	pcap "$TMP/runt.pcap" 1 "$UDP17" "0102"
	expect 1 "'$TMP/runt.pcap': packet 2 (2 bytes): " "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/runt.pcap"
	: >"$TMP/empty.pcap"
	expect 1 "empty.pcap" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/empty.pcap"
	expect 1 "no program named 'nosuch'" "$SLUICE" run "$XDP" --prog nosuch --pcap "$TMP/mixed.pcap"
	expect 2 "an object runs with --prog NAME --pcap IN.pcap" "$SLUICE" run "$XDP" --prog xdp_filter
	expect 2 "--mem, --mem-file and --budget run raw programs" "$SLUICE" run "$XDP" --prog xdp_filter --pcap "$TMP/mixed.pcap" --mem 00
	expect 2 "--pcap-out and --events go with FILE.o --pcap" "$SLUICE" run "$TMP/seven.s" --events
	expect 2 "--prog NAME and --dev IFACE are required" "$SLUICE" attach "$XDP" --userspace
	expect 2 "go with --userspace" "$SLUICE" attach "$XDP" --prog xdp_filter --dev lo --count 3
	expect 1 "no network interface 'nosuch0'" "$SLUICE" attach "$XDP" --prog xdp_filter --dev nosuch0 --userspace
}

# ---- live: the kernel backend and attach -------------------------------------

# wait_for FILE TEXT: until TEXT appears in FILE (at most 10 s); each
# background command writes files of its own, so no old line is found
wait_for() {
	for _ in $(seq 100); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "FAIL: '$2' never appeared in $1: $(cat "$1")"
	fail=$((fail + 1))
	return 1
}

live() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: the kernel backend and attach need root"
		exit 77
	fi
	if ! "$SLUICE" load "$XDP" --prog xdp_filter >/dev/null 2>&1; then
		echo "SKIP: the kernel refuses to load BPF programs here"
		exit 77
	fi
	# the kernel's BPF_PROG_TEST_RUN gives the same retval and packet, and
	# for TC and socket filters the same context back (for XDP, a ctx_out
	# without ctx_in makes 6.x kernels run on an empty packet)
	for run in "$XDP xdp_filter UDP17" "$XDP xdp_filter TRUNC" "$XDP xdp_filter UDP6" \
		   "$SCRIPT xdp_script tx" "$SCRIPT xdp_script redirect" \
		   "$TC tc_count UDP17 ctx" "$SOCK udp_only UDP17 ctx" "$SOCK udp_only UDP53 ctx" \
		   "$SCRIPT tc_script redirect ctx"; do
		set -- $run
		for backend in userspace kernel; do
			"$SLUICE" test-run "$1" --prog "$2" --backend $backend --data-in "$TMP/$3.bin" \
				--data-out "$TMP/$backend.out" ${4:+--ctx-out "$TMP/$2-$3.$backend.ctx"} \
				>"$TMP/$backend.txt" 2>&1
		done
		same "$2 on $3: retval" "$(grep retval "$TMP/userspace.txt")" "$(grep retval "$TMP/kernel.txt")"
		expect 0 "" cmp "$TMP/userspace.out" "$TMP/kernel.out"
		[ -n "${4:-}" ] && expect 0 "" cmp "$TMP/$2-$3.userspace.ctx" "$TMP/$2-$3.kernel.ctx"
	done
	same "tc_count's mark from the kernel" "$(od -An -tx1 -j8 -N4 "$TMP/tc_count-UDP17.kernel.ctx" | tr -d ' ')" "11510000"

	NS=sluice-rtcli-$$
	if ! ip netns add "$NS" 2>/dev/null; then
		NS=""
		echo "SKIP: cannot create a network namespace"
		exit 77
	fi
	# no IPv6 router solicitations or DAD: the only packets are the test's
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$NS" link add a0 type veth peer name b0
	ip -n "$NS" link add a1 type veth peer name b1
	for dev in a0 b0 a1 b1; do ip -n "$NS" link set "$dev" up; done
	# (background commands run under ip netns exec directly: $! is then their pid)
	in_ns() { ip netns exec "$NS" "$@"; }
	b0=$(in_ns cat /sys/class/net/b0/ifindex)
	b1=$(in_ns cat /sys/class/net/b1/ifindex)

	# user space: a0 sends four frames to b0, where the program drops one,
	# passes one, sends one back to a0 and redirects one out of b1 to a1
	pcap "$TMP/live.pcap" 1 "$(script 1)" "$(script 2)" "$(script 3)" "$(script 4 "$b1")"
	ip netns exec "$NS" "$PKT_IO" recv a0 1 20 >"$TMP/a0.rx" 2>"$TMP/a0.err" &
	rx0=$!
	ip netns exec "$NS" "$PKT_IO" recv a1 1 20 >"$TMP/a1.rx" 2>"$TMP/a1.err" &
	rx1=$!
	ip netns exec "$NS" "$SLUICE" attach "$SCRIPT" --prog xdp_script --dev b0 --userspace --redirect-dev b1 \
		--events --count 4 --duration 20 >"$TMP/attach.out" 2>"$TMP/attach.err" &
	att=$!
	wait_for "$TMP/attach.err" "runs in user space on packets arriving at b0" &&
		wait_for "$TMP/a0.err" "listening" && wait_for "$TMP/a1.err" "listening" &&
		expect 0 "" in_ns "$PKT_IO" send a0 "$TMP/live.pcap"
	wait $att
	same "attach exit status" "$?" 0
	wait $rx0 $rx1
	out=$(cat "$TMP/attach.out")
	for want in "4 packets" "  XDP_DROP           1" "  XDP_PASS           1" "  XDP_TX             1" \
		    "  XDP_REDIRECT       1" "sent: 1 tx out of b0, 1 redirected; 0 not sent" \
		    "event packet 3 ringbuf reports 12 bytes: 030000003c000000$(le32 "$b0")" \
		    "event packet 4 perf perf_reports cpu"; do
		expect 0 "$want" printf '%s' "$out"
	done
	same "frame sent back to a0" "$(cat "$TMP/a0.rx")" "$(script_sent 3 2 | tr -d ' ')"
	same "frame redirected to a1" "$(cat "$TMP/a1.rx")" "$(script_sent 4 2 "$b1" | tr -d ' ')"

	# the same for TC, with TC's verdicts: shot, ok, and a redirect out of b1
	pcap "$TMP/live-tc.pcap" 1 "$(script 2)" "$(script 0)" "$(script 7 "$b1")"
	ip netns exec "$NS" "$PKT_IO" recv a1 1 20 >"$TMP/a1-tc.rx" 2>"$TMP/a1-tc.err" &
	rx1=$!
	ip netns exec "$NS" "$SLUICE" attach "$SCRIPT" --prog tc_script --dev b0 --userspace --redirect-dev b1 \
		--engine jit --count 3 --duration 20 --json >"$TMP/attach-tc.out" 2>"$TMP/attach-tc.err" &
	att=$!
	wait_for "$TMP/attach-tc.err" "runs in user space on packets arriving at b0" &&
		wait_for "$TMP/a1-tc.err" "listening" &&
		expect 0 "" in_ns "$PKT_IO" send a0 "$TMP/live-tc.pcap"
	wait $att
	same "tc attach exit status" "$?" 0
	wait $rx1
	expect 0 '"packets":3,"verdicts":{"TC_ACT_OK":1,"TC_ACT_SHOT":1,"TC_ACT_REDIRECT":1},"sent_tx":0,"sent_redirect":1,"not_sent":0,"failed_runs":0,"truncated":0,"ring_drops":0' cat "$TMP/attach-tc.out"
	same "frame redirected to a1 by TC" "$(cat "$TMP/a1-tc.rx")" "$(script_sent 7 0 "$b1" | tr -d ' ')"

	# a control plane in another process changes the maps while packets
	# flow: 10.0.0.1 blocklisted between attach and the first packet
	pcap "$TMP/blocked.pcap" 1 "$UDP17" "$ARP"
	ip netns exec "$NS" "$SLUICE" attach "$XDP" --prog xdp_filter --dev b0 --userspace \
		--count 2 --duration 20 >"$TMP/attach-cp.out" 2>"$TMP/attach-cp.err" &
	att=$!
	if wait_for "$TMP/attach-cp.err" "runs in user space on packets arriving at b0"; then
		id=$("$SLUICE" map list --json | tr '{' '\n' | grep "\"name\":\"blocklist\".*\"owner_pid\":$att," |
		     sed 's/^"id":\([0-9]*\),.*/\1/')
		expect 0 "" "$SLUICE" map update id "$id" key hex 0a 00 00 01 value hex 00 00 00 00 00 00 00 00
		expect 0 "" in_ns "$PKT_IO" send a0 "$TMP/blocked.pcap"
	fi
	wait $att
	out=$(cat "$TMP/attach-cp.out")
	for want in "  XDP_DROP           1" "  XDP_PASS           1" "map blocklist (hash): 1 of 1024 entries" \
		    "    16777226: 1"; do
		expect 0 "$want" printf '%s' "$out"
	done

	# the kernel: attached until SIGINT, then detached cleanly
	ip netns exec "$NS" "$SLUICE" attach "$XDP" --prog xdp_filter --dev b0 >"$TMP/k.out" 2>"$TMP/k.err" &
	att=$!
	if wait_for "$TMP/k.err" "attached to b0 at xdp in the kernel"; then
		expect 0 "xdp" in_ns ip link show b0
		kill -INT $att
	fi
	wait $att
	same "kernel attach exit status" "$?" 0
	expect 0 "xdp_filter detached from b0 (xdp)" cat "$TMP/k.out"
	same "no XDP program left on b0" "$(in_ns ip link show b0 | grep -c 'prog/xdp')" 0
	expect 0 "tc_count detached from b0 (tc-ingress)" in_ns "$SLUICE" attach "$TC" --prog tc_count --dev b0 --duration 0.2
	same "no clsact qdisc left on b0" "$(in_ns tc qdisc show dev b0 | grep -c clsact)" 0

	# sluice trace: the kernel's bpf_trace_printk lines, here from the kernel's xdp_script
	"$SLUICE" trace --duration 20 >"$TMP/trace.out" 2>"$TMP/trace.err" &
	tr=$!
	ip netns exec "$NS" "$SLUICE" attach "$SCRIPT" --prog xdp_script --dev b0 >"$TMP/k2.out" 2>"$TMP/k2.err" &
	att=$!
	pcap "$TMP/one.pcap" 1 "$(script 2)"
	if wait_for "$TMP/trace.err" "reading" && wait_for "$TMP/k2.err" "attached to b0"; then
		in_ns "$PKT_IO" send a0 "$TMP/one.pcap"
		wait_for "$TMP/trace.out" "bpf_trace_printk: script verdict 2 len 60"
	fi
	kill -INT $att $tr
	wait $att
	same "kernel attach of xdp_script exit status" "$?" 0
	wait $tr
	same "trace exit status" "$?" 0
}

case $MODE in
offline) offline ;;
live) live ;;
*) echo "usage: $0 offline|live SLUICE EXAMPLES_DIR SCRIPT_PROG.o PKT_IO"; exit 2 ;;
esac
expect_summary
