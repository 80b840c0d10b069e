#!/bin/sh
# The service load balancer end to end, in the kernel, with real traffic:
# the bundled topology (pods as network namespaces), the agent, and flows
# from the client pod through the service addresses.  Checks DNAT and
# reverse NAT (TCP, UDP, IPv4, IPv6: the client's sockets only accept
# answers from the service address), hairpin flows (a pod that is its own
# backend), spread over 3,000 real flows, conntrack keeping flows and
# connections on their backend across a change, Maglev moving only the
# removed backend's flows, session affinity and its timeout,
# externalTrafficPolicy Local, NodePorts from pods and from outside over
# both families and protocols (XDP, IPIP or IPv6 in IPv6, DSR), ICMP and
# ICMPv6 errors from backends and from the node to clients and from clients
# to backends, the conntrack garbage collector, bad manifests changing
# nothing.
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_k8s_lb.sh SLUICE EXAMPLES_K8S_DIR TEST_MANIFESTS_DIR ICMP_ERROR
set -u
SLUICE=$1
EXAMPLES=$2
MANIFESTS=$3
ICMP_ERROR=$4
BAD=$(dirname "$0")/bad
NAME=k8s_datapath
. "$(dirname "$0")/lib.sh"
# closed TCP flows leave conntrack after a second, collected every second
setup --ct-timeout tcp-closing=1 --ct-gc-interval 1

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

# From outside the cluster: XDP on the node's ext0, IPIP or IPv6 in IPv6 to the backend (DSR)
check "the agent put XDP on the node's external interface" sh -c "ip -n $P-node link show ext0 | grep -q 'prog/xdp'"
if "$SLUICE" k8s probe --netns "$P-ext" --timeout 500 10.0.0.1 30080 --flows 100 >"$TMP/out" 2>&1 &&
   [ "$(backends "$TMP/out")" = "api-1 api-2 api-3 " ]; then
	ok "100 flows from outside to the NodePort, through XDP with DSR"
else
	not_ok "100 flows from outside to the NodePort, through XDP with DSR"
fi
check "curl from outside to the NodePort" sh -c "ip netns exec $P-ext curl -sf -m 2 http://10.0.0.1:30080/ | grep -Eq '^api-[123]$'"
check "apply a dual-stack NodePort, TCP and UDP" apply "$MANIFESTS/dual-nodeport.yaml"
for target in "10.0.0.1 30090 --udp" "fd00:10::1 30090" "fd00:10::1 30090 --udp"; do
	# shellcheck disable=SC2086 # target is address, port and options
	if "$SLUICE" k8s probe --netns "$P-ext" --timeout 500 $target --flows 60 >"$TMP/out" 2>&1 &&
	   [ "$(backends "$TMP/out")" = "api-1 api-2 api-3 " ]; then
		ok "60 flows from outside to $target, through XDP with DSR"
	else
		not_ok "60 flows from outside to $target, through XDP with DSR"
	fi
done
check "curl from outside to the IPv6 NodePort" sh -c "ip netns exec $P-ext curl -sf -m 2 'http://[fd00:10::1]:30090/' | grep -Eq '^api-[123]$'"

# Hairpin: web-1 through its own service; the flows Maglev gives web-1 come back to it
for target in "10.96.0.10 80" "10.96.0.10 53 --udp" "fd00:10:96::a 80" "fd00:10:96::a 53 --udp"; do
	# shellcheck disable=SC2086 # target is address, port and options
	if "$SLUICE" k8s probe --netns "$P-shop-web-1" --timeout 1000 $target --flows 60 \
		>"$TMP/out" 2>&1 && [ "$(backends "$TMP/out")" = "web-1 web-2 web-3 " ]; then
		ok "hairpin: 60 flows from web-1 to $target, web-1 answering some"
	else
		not_ok "hairpin: 60 flows from web-1 to $target"
	fi
done
if "$SLUICE" k8s probe --netns "$P-blog-api-1" --timeout 1000 10.0.0.1 30080 --flows 60 \
	>"$TMP/out" 2>&1 && [ "$(backends "$TMP/out")" = "api-1 api-2 api-3 " ]; then
	ok "hairpin: 60 flows from api-1 to its NodePort, api-1 answering some"
else
	not_ok "hairpin: 60 flows from api-1 to its NodePort"
fi

# ClientIP affinity's timeout: the picks without affinity, then with a 2 s affinity
check "apply a Service without affinity" apply "$MANIFESTS/affinity-none.yaml"
probe 10.96.0.90 80 --flows 30 --sport 41000 -v >"$TMP/picks" 2>&1
check "give it ClientIP affinity for 2 s" apply "$MANIFESTS/affinity-2s.yaml"
probe 10.96.0.90 80 --flows 1 --sport 41000 -v >"$TMP/first" 2>&1
probe 10.96.0.90 80 --flows 29 --sport 41001 -v >"$TMP/sticky" 2>&1
first=$(flows "$TMP/first" | awk '{print $2}')
elsewhere=$(flows "$TMP/picks" | awk -v b="$first" 'NR > 1 && $2 != b' | wc -l)
if [ -n "$first" ] && [ "$first" != "-" ] && [ "$elsewhere" -gt 0 ] &&
   [ "$(flows "$TMP/sticky" | awk '{print $2}' | sort -u)" = "$first" ]; then
	ok "ClientIP affinity: 29 more flows follow the first to $first ($elsewhere of them Maglev puts elsewhere)"
else
	not_ok "ClientIP affinity keeps new flows on the first one's backend"
fi
sleep 2.5
# a flow Maglev puts elsewhere gets its own backend once the affinity has expired
next=$(flows "$TMP/picks" | awk -v b="$first" 'NR > 1 && $2 != b {print $1, $2; exit}')
probe 10.96.0.90 80 --flows 1 --sport "${next% *}" -v >"$TMP/out" 2>&1
if [ -n "$next" ] && [ "$(flows "$TMP/out" | awk '{print $2}')" = "${next#* }" ]; then
	ok "ClientIP affinity expires after its timeout: source port ${next% *} goes to ${next#* }"
else
	not_ok "ClientIP affinity expires after its timeout"
fi

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
# the services and backends, not the flows and counters that go on moving
services() {
	"$SLUICE" k8s status --socket "$SOCK" |
		sed -n '/^conntrack:/q; s/, [0-9]* conntrack entries//; s/  flows.*//; p'
}
services >"$TMP/before"
if ! "$SLUICE" k8s apply -f "$EXAMPLES/20-web.yaml" -f "$BAD/port-string.yaml" --socket "$SOCK" \
	>"$TMP/out" 2>&1 &&
   grep -q 'port-string.yaml:9: Service default/web: spec.ports\[0\].port: expected an integer' "$TMP/out"; then
	ok "a bad manifest is refused with file, line, object and field"
else
	not_ok "a bad manifest is refused with file, line, object and field"
fi
services >"$TMP/after"
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
"$SLUICE" k8s probe --netns "$P-ext" --timeout 500 10.0.0.1 30081 --flows 30 >"$TMP/out" 2>&1
if [ "$(backends "$TMP/out")" = "api-1 " ]; then
	ok "externalTrafficPolicy Local: from outside too (XDP)"
else
	not_ok "externalTrafficPolicy Local (node port, from outside)"
fi
probe 10.96.0.50 80 --flows 120 >"$TMP/out" 2>&1
if [ "$(backends "$TMP/out")" = "api-1 api-2 api-3 " ]; then
	ok "externalTrafficPolicy Local: the cluster IP reaches every endpoint"
else
	not_ok "externalTrafficPolicy Local (cluster IP)"
fi
check "apply a UDP service whose backend port is closed" \
	apply "$MANIFESTS/closed.yaml"
probe 10.96.0.60 9 --udp --flows 5 >"$TMP/out" 2>&1
if grep -q '5 failed (5 refused,' "$TMP/out"; then
	ok "ICMP port unreachable from the backend reaches the client as the service's"
else
	not_ok "ICMP errors are reverse-NATed"
fi
probe fd00:10:96::3c 9 --udp --flows 5 >"$TMP/out" 2>&1
if grep -q '5 failed (5 refused,' "$TMP/out"; then
	ok "ICMPv6 port unreachable from the backend reaches the client as the service's"
else
	not_ok "ICMPv6 errors are reverse-NATed"
fi

# Errors the node sends about DNATed packets: no route to the endpoint
check "apply a service whose endpoint does not exist" apply "$MANIFESTS/blackhole.yaml"
for addr in 10.96.0.80 fd00:10:96::50; do
	probe "$addr" 80 --flows 2 --timeout 5000 >"$TMP/out" 2>&1
	if grep -q '2 failed (0 refused, 2 unreachable,' "$TMP/out"; then
		ok "the node's unreachable about $addr's missing endpoint fails the connect at once"
	else
		not_ok "the node's unreachable about $addr's missing endpoint"
	fi
done
# ... and fragmentation needed (packet too big) when web-2's veth narrows to 1280
check "apply a UDP service on web-2 alone" apply "$MANIFESTS/big.yaml"
veth=$(ip -n "$P-node" route get 10.244.1.12 | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}')
ip -n "$P-node" link set "$veth" mtu 1280
for addr in 10.96.0.100 fd00:10:96::64; do
	probe "$addr" 53 --udp --size 1400 --flows 2 >"$TMP/out" 2>&1
	if grep -q '2 failed (0 refused, 0 unreachable, 2 message too long)' "$TMP/out"; then
		ok "the node's packet-too-big about $addr reaches the client's socket"
	else
		not_ok "the node's packet-too-big about $addr"
	fi
done
check "the client learned the service address's path MTU" \
	sh -c "ip -n $CLIENT route get 10.96.0.100 | grep -q 'mtu 1280'"
check "datagrams that fit still pass" probe 10.96.0.100 53 --udp --size 1200 --flows 2
ip -n "$P-node" link set "$veth" mtu 1500
# ... and the other way: a client's side says a reply was too big; the backend learns it
for flow in "10.96.0.10 10.244.0.10 46000 1300" "fd00:10:96::a fd00:10:244::a 46001 1280"; do
	# shellcheck disable=SC2086 # service, client, source port, MTU
	set -- $flow
	probe "$1" 53 --udp --sport "$3" -v >"$TMP/out" 2>&1
	backend=$(flows "$TMP/out" | awk '{print $2}')
	ip netns exec "$CLIENT" "$ICMP_ERROR" "$4" "$1" 53 "$2" "$3" >>"$TMP/out" 2>&1
	check "a packet-too-big about a reply from $1 reaches $backend as about its own" \
		sh -c "ip -n $P-shop-$backend route get $2 | grep -q 'mtu $4'"
done
check "delete a service" "$SLUICE" k8s delete -f "$MANIFESTS/sticky.yaml" --socket "$SOCK"
if ! probe 10.96.0.40 80 --flows 1 >"$TMP/out" 2>&1; then
	ok "a deleted service no longer answers"
else
	not_ok "a deleted service no longer answers"
fi

probe 10.96.0.10 53 --udp --sport 45000 >"$TMP/out" 2>&1
check "status lists the latest flow with its state and idle time" sh -c \
	"$SLUICE k8s status --socket $SOCK | grep -Eq '^    UDP 10.244.0.10:45000 -> 10.96.0.10:53 via 10.244.1.1[123]:8080  udp  idle [0-9.]+ s, expires in [0-9.]+ s'"
# the test has run for seconds: flows it closed with a reset are gone
check "the periodic garbage collector removed the closed flows" sh -c \
	"$SLUICE k8s status --json --socket $SOCK | grep -Eq '\"gc_runs\":[1-9][0-9]*,\"gc_removed\":[1-9]'"
finish
