#!/bin/sh
# The service load balancer end to end, in the kernel, with real traffic:
# the bundled topology (pods as network namespaces), the agent, and flows
# from the client pod through the service addresses.  Checks DNAT and
# reverse NAT (TCP, UDP, IPv4, IPv6: the client's sockets only accept
# answers from the service address), spread over 3,000 real flows,
# conntrack keeping flows and connections on their backend across a change,
# Maglev moving only the removed backend's flows, session affinity,
# externalTrafficPolicy Local, NodePorts, ICMP errors from backends, bad
# manifests changing nothing.
# The NodePort is also reached from outside, through XDP and IPIP (DSR).
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_k8s_lb.sh SLUICE EXAMPLES_K8S_DIR TEST_MANIFESTS_DIR
set -u
SLUICE=$1
EXAMPLES=$2
MANIFESTS=$3
BAD=$(dirname "$0")/bad
P=sk$$
TMP=$(mktemp -d)
SOCK=$TMP/agent.sock
CLIENT=$P-default-client
passed=0
failed=0

cleanup() {
	"$SLUICE" k8s topology down --prefix "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! ip netns add "$P-probe" 2>"$TMP/err"; then
	echo "skip: cannot create network namespaces: $(cat "$TMP/err")"
	exit 77
fi
ip netns del "$P-probe"

ok() { passed=$((passed + 1)); echo "ok: $1"; }
not_ok() {
	failed=$((failed + 1))
	echo "FAIL: $1"
	[ -f "$TMP/out" ] && sed 's/^/  /' "$TMP/out"
}
# check WHAT COMMAND...: the command succeeds (its output in $TMP/out)
check() {
	what=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then ok "$what"; else not_ok "$what"; fi
}
probe() { "$SLUICE" k8s probe --netns "$CLIENT" --timeout 1000 "$@"; }
# backends FILE: the backend names a probe printed, sorted, one line
backends() { awk '$3 == "flows" {print $1}' "$1" | sort | tr '\n' ' '; }
# flows FILE: "sport backend" per flow of a probe -v
flows() { awk '$1 == "flow" {print $4, $6}' "$1"; }

if ! "$SLUICE" k8s topology up -f "$EXAMPLES" --prefix "$P" >"$TMP/out" 2>&1; then
	cat "$TMP/out"
	exit 1
fi
if ! "$SLUICE" k8s agent --netns "$P-node" --socket "$SOCK" --daemon >"$TMP/out" 2>&1; then
	if grep -Eq 'Operation not permitted|refused' "$TMP/out"; then
		echo "skip: the kernel refused to load the datapath: $(cat "$TMP/out")"
		exit 77
	fi
	cat "$TMP/out"
	exit 1
fi
check "apply the bundled manifests" "$SLUICE" k8s apply -f "$EXAMPLES" --socket "$SOCK"
# without services every flow below would wait for its timeout: stop here
if [ "$failed" -ne 0 ]; then
	echo "k8s_datapath: $passed passed, $failed failed"
	exit 1
fi

# DNAT and reverse NAT, four ways; each backend of the service answers, no other
for target in "10.96.0.10 80" "10.96.0.10 53 --udp" "fd00:10:96::a 80" "fd00:10:96::a 53 --udp"; do
	# shellcheck disable=SC2086 # target is address, port and options
	if probe $target --flows 300 >"$TMP/out" 2>&1 &&
	   [ "$(backends "$TMP/out")" = "web-1 web-2 web-3 " ]; then
		ok "300 flows to $target reach web-1..3 and come back from the service address"
	else
		not_ok "300 flows to $target"
	fi
done
check "curl through the ClusterIP" sh -c "ip netns exec $CLIENT curl -sf -m 2 http://10.96.0.10/ | grep -Eq '^web-[123]$'"
check "curl through the IPv6 ClusterIP" sh -c "ip netns exec $CLIENT curl -sf -m 2 'http://[fd00:10:96::a]/' | grep -Eq '^web-[123]$'"
check "NodePort from a pod" sh -c "$SLUICE k8s probe --netns $CLIENT 10.0.0.1 30080 --flows 30 | grep -q api-"

# From outside the cluster: XDP on the node's ext0, IPIP to the backend (DSR)
check "the agent put XDP on the node's external interface" sh -c "ip -n $P-node link show ext0 | grep -q 'prog/xdp'"
if "$SLUICE" k8s probe --netns "$P-ext" --timeout 500 10.0.0.1 30080 --flows 100 >"$TMP/out" 2>&1 &&
   [ "$(backends "$TMP/out")" = "api-1 api-2 api-3 " ]; then
	ok "100 flows from outside to the NodePort, through XDP with DSR"
else
	not_ok "100 flows from outside to the NodePort, through XDP with DSR"
fi
check "curl from outside to the NodePort" sh -c "ip netns exec $P-ext curl -sf -m 2 http://10.0.0.1:30080/ | grep -Eq '^api-[123]$'"

# Even spread over 3,000 real flows: each backend within 10% of 1,000
probe 10.96.0.10 80 --flows 3000 --sport 20000 >"$TMP/out" 2>&1
if awk '$1 ~ /^web-/ {n++; if ($2 < 900 || $2 > 1100) bad = 1} END {exit !(n == 3 && !bad)}' \
	"$TMP/out"; then
	ok "3000 flows spread within 10%: $(awk '$1 ~ /^web-/ {printf "%s %s  ", $1, $2}' "$TMP/out")"
else
	not_ok "3000 flows spread within 10%"
fi

check "status counts packets and conntrack entries" sh -c \
	"$SLUICE k8s status --json --socket $SOCK | grep -q '\"conntrack_entries\":[1-9]' &&
	 $SLUICE k8s status --socket $SOCK | grep -Eq 'shop/web:http 10.96.0.10:80/TCP .*packets [1-9]'"

# A bad manifest: a clear error naming file, line and field, and nothing changes
"$SLUICE" k8s status --socket "$SOCK" | sed 's/packets.*//' >"$TMP/before"
if ! "$SLUICE" k8s apply -f "$EXAMPLES/20-web.yaml" -f "$BAD/port-string.yaml" --socket "$SOCK" \
	>"$TMP/out" 2>&1 &&
   grep -q 'port-string.yaml:9: Service default/web: spec.ports\[0\].port: expected an integer' "$TMP/out"; then
	ok "a bad manifest is refused with file, line, object and field"
else
	not_ok "a bad manifest is refused with file, line, object and field"
fi
"$SLUICE" k8s status --socket "$SOCK" | sed 's/packets.*//' >"$TMP/after"
check "nothing was applied" cmp "$TMP/before" "$TMP/after"

# Conntrack: UDP flows keep their backend when a fourth one joins
probe 10.96.0.10 53 --udp --flows 200 --sport 30000 -v >"$TMP/udp1" 2>&1
"$SLUICE" k8s probe --netns "$CLIENT" 10.96.0.10 80 --flows 3 --requests 12 --interval 100 \
	>"$TMP/longlived" 2>&1 &
long=$!
sleep 0.3
check "add a fourth backend" "$SLUICE" k8s apply -f "$MANIFESTS/web-plus-api1.yaml" --socket "$SOCK"
if wait $long; then
	ok "connections open across the change kept their backend"
else
	cp "$TMP/longlived" "$TMP/out"
	not_ok "connections open across the change kept their backend"
fi
probe 10.96.0.10 53 --udp --flows 200 --sport 30000 -v >"$TMP/udp2" 2>&1
flows "$TMP/udp1" >"$TMP/a"
flows "$TMP/udp2" >"$TMP/b"
if [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then
	ok "200 established UDP flows kept their backend"
else
	diff "$TMP/a" "$TMP/b" >"$TMP/out"
	not_ok "200 established UDP flows kept their backend"
fi
check "new flows reach the new backend" sh -c "$SLUICE k8s probe --netns $CLIENT 10.96.0.10 80 --flows 200 | grep -q api-1"

# Maglev on real flows: removing one backend of 4 moves its flows (about 250,
# give or take the sampling) and at most 3% of the others; none stays on it
probe 10.96.0.10 80 --flows 1000 --sport 40000 -v >"$TMP/tcp1" 2>&1
check "remove the fourth backend" "$SLUICE" k8s delete -f "$MANIFESTS/web-plus-api1.yaml" --socket "$SOCK"
probe 10.96.0.10 80 --flows 1000 --sport 40000 -v >"$TMP/tcp2" 2>&1
flows "$TMP/tcp1" >"$TMP/a"
flows "$TMP/tcp2" >"$TMP/b"
on_removed=$(awk '$2 == "api-1"' "$TMP/a" | wc -l)
moved=$(paste "$TMP/a" "$TMP/b" | awk '$2 != $4' | wc -l)
others=$(paste "$TMP/a" "$TMP/b" | awk '$2 != $4 && $2 != "api-1"' | wc -l)
if [ "$(wc -l <"$TMP/a")" -eq 1000 ] && [ "$on_removed" -gt 150 ] && [ "$others" -le 30 ] &&
   [ "$moved" -le 300 ] && ! grep -q api-1 "$TMP/b"; then
	ok "Maglev: removing 1 of 4 backends moved $moved of 1000 flows ($on_removed were on it, $others others)"
else
	echo "moved $moved, on removed $on_removed, others $others" >"$TMP/out"
	not_ok "Maglev disruption on real flows"
fi

check "apply ClientIP affinity and externalTrafficPolicy Local" \
	"$SLUICE" k8s apply -f "$MANIFESTS/sticky.yaml" -f "$MANIFESTS/local.yaml" --socket "$SOCK"
probe 10.96.0.40 80 --flows 50 >"$TMP/out" 2>&1
if [ "$(backends "$TMP/out" | wc -w)" -eq 1 ] && grep -q ' 0 failed' "$TMP/out"; then
	ok "ClientIP affinity: 50 flows, one backend ($(backends "$TMP/out"))"
else
	not_ok "ClientIP affinity"
fi
probe 10.0.0.1 30081 --flows 60 >"$TMP/out" 2>&1
if [ "$(backends "$TMP/out")" = "api-1 " ]; then
	ok "externalTrafficPolicy Local: the node port reaches only this node's endpoint"
else
	not_ok "externalTrafficPolicy Local (node port)"
fi
probe 10.96.0.50 80 --flows 120 >"$TMP/out" 2>&1
if [ "$(backends "$TMP/out")" = "api-1 api-2 api-3 " ]; then
	ok "externalTrafficPolicy Local: the cluster IP reaches every endpoint"
else
	not_ok "externalTrafficPolicy Local (cluster IP)"
fi
check "apply a UDP service whose backend port is closed" \
	"$SLUICE" k8s apply -f "$MANIFESTS/closed.yaml" --socket "$SOCK"
probe 10.96.0.60 9 --udp --flows 5 >"$TMP/out" 2>&1
if grep -q '5 failed (5 refused)' "$TMP/out"; then
	ok "ICMP port unreachable from the backend reaches the client as the service's"
else
	not_ok "ICMP errors are reverse-NATed"
fi
check "delete a service" "$SLUICE" k8s delete -f "$MANIFESTS/sticky.yaml" --socket "$SOCK"
if ! probe 10.96.0.40 80 --flows 1 >"$TMP/out" 2>&1; then
	ok "a deleted service no longer answers"
else
	not_ok "a deleted service no longer answers"
fi

echo "k8s_datapath: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
