#!/bin/sh
# Conntrack ageing in the kernel datapath, on real flows, with timeouts of
# seconds (tcp-syn 4, tcp-closing 4, udp 3) and the garbage collector run
# only on request: expired entries count as missing in the datapath itself
# (a UDP flow idle past its timeout is balanced afresh), status shows each
# flow's state and idle time, `sluice k8s gc` removes exactly the expired
# flows, and an established connection outlives the short timeouts.
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_k8s_ct.sh SLUICE EXAMPLES_K8S_DIR TEST_MANIFESTS_DIR
set -u
SLUICE=$1
EXAMPLES=$2
MANIFESTS=$3
NAME=k8s_conntrack
. "$(dirname "$0")/lib.sh"
setup --ct-timeout tcp-syn=4 --ct-timeout tcp-closing=4 --ct-timeout udp=3 --ct-gc-interval 0

# timeouts the agent does not know, or out of range: a usage error (exit 2), nothing started
for bad in tcp-fin=3 udp=0 udp=86401 udp; do
	usage_error "--ct-timeout $bad is refused" 'ct-timeout: tcp-syn, tcp-established' \
		"$SLUICE" k8s agent --socket "$TMP/never.sock" --ct-timeout "$bad"
done

# in_state FILE PORT STATE: the flows from the client's PORT (a pattern) that the
# status in FILE lists in STATE
in_state() { grep -c "^    TCP 10.244.0.10:$2 -> .*  $3  idle" "$1"; }

# Expired is missing, with no garbage collector: a fourth backend joins; live
# UDP flows keep theirs, flows idle past the UDP timeout are balanced afresh
probe 10.96.0.10 53 --udp --flows 200 --sport 30000 -v >"$TMP/a" 2>&1
check "add a fourth backend" apply "$MANIFESTS/web-plus-api1.yaml"
probe 10.96.0.10 53 --udp --flows 200 --sport 30000 -v >"$TMP/b" 2>&1
flows "$TMP/a" >"$TMP/fa"
flows "$TMP/b" >"$TMP/fb"
if [ "$(wc -l <"$TMP/fa")" -eq 200 ] && cmp -s "$TMP/fa" "$TMP/fb"; then
	ok "200 live UDP flows keep their backend"
else
	diff "$TMP/fa" "$TMP/fb" >"$TMP/out"
	not_ok "200 live UDP flows keep their backend"
fi
sleep 3.5
probe 10.96.0.10 53 --udp --flows 200 --sport 30000 -v >"$TMP/c" 2>&1
flows "$TMP/c" >"$TMP/fc"
moved=$(paste "$TMP/fb" "$TMP/fc" | awk '$2 != $4' | wc -l)
elsewhere=$(paste "$TMP/fb" "$TMP/fc" | awk '$2 != $4 && $4 != "api-1"' | wc -l)
# (about a quarter go to the new backend; Maglev moves a few others too)
if [ "$((moved - elsewhere))" -ge 20 ] && [ "$elsewhere" -le 10 ] &&
   status --json | grep -q '"gc_runs":0,'; then
	what="UDP flows idle past their timeout are new flows: $moved moved"
	ok "$what ($elsewhere not to the new backend), no gc run"
else
	echo "moved $moved, $elsewhere not to api-1" >"$TMP/out"
	not_ok "expired UDP flows are balanced afresh"
fi
# the moved flows' reply entries from their old backends no longer count
if status --json | grep -q "\"flows\":200,\"reply_entries\":200,\"expired_entries\":$moved,"; then
	ok "200 flows, 200 live reply entries, $moved stale ones from the old backends"
else
	status --json >"$TMP/out"
	not_ok "reply entries of moved flows are stale"
fi

# States: closed by a reset, by FIN from both sides, a SYN nobody answers, established
probe 10.96.0.10 80 --flows 3 --sport 31000 >"$TMP/out" 2>&1
probe 10.96.0.10 80 --flows 2 --sport 31100 --fin >"$TMP/out" 2>&1
check "apply a service whose endpoint does not exist" apply "$MANIFESTS/blackhole.yaml"
probe 10.96.0.80 80 --flows 2 --sport 31200 --timeout 2000 >"$TMP/out" 2>&1
# one request now, one after 12 s of silence: far longer than any short timeout
probe 10.96.0.10 80 --flows 1 --sport 31300 --requests 2 --interval 12000 --timeout 2000 \
	>"$TMP/long" 2>&1 &
long=$!
sleep 0.5
status >"$TMP/states"
for expect in "310[0-9][0-9] reset 3" "311[0-9][0-9] closed 2" "312[0-9][0-9] syn-sent 2" \
	"313[0-9][0-9] established 1"; do
	# shellcheck disable=SC2086 # port pattern, state, count
	set -- $expect
	n=$(in_state "$TMP/states" "$1" "$2")
	if [ "$n" -eq "$3" ]; then
		ok "status shows $3 flow(s) $2"
	else
		cp "$TMP/states" "$TMP/out"
		not_ok "status shows $3 flow(s) $2 (saw $n)"
	fi
done

# The garbage collector, on request, once the short timeouts have run out
sleep 4.5
check "gc removes the expired entries" sh -c \
	"$SLUICE k8s gc --socket $SOCK | grep -Eq 'removed [1-9][0-9]* of'"
status >"$TMP/after"
if [ "$(in_state "$TMP/after" '313[0-9][0-9]' established)" -eq 1 ] &&
   [ "$(grep -Ec '^    (TCP|UDP) ' "$TMP/after")" -eq 1 ]; then
	ok "only the established connection is left in conntrack"
else
	cp "$TMP/after" "$TMP/out"
	not_ok "only the established connection is left in conntrack"
fi
if wait "$long" && grep -q ' 0 failed' "$TMP/long"; then
	ok "the established connection idle for 12 s still works"
else
	cp "$TMP/long" "$TMP/out"
	not_ok "the established connection idle for 12 s still works"
fi
finish
