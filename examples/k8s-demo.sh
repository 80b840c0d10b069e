#!/bin/sh
# Kubernetes service load balancing in eBPF, on one machine, as root:
#   1. a node and 7 pods as network namespaces (examples/k8s/*.yaml)
#   2. the agent loads the datapath into the kernel and the services into its maps
#   3. curl from the client pod through both services' ClusterIPs: the spread
#      (and from a backend pod through its own service: hairpin)
#   4. web-3 stops being ready: only the flows it served move
#   5. the agent's view: frontends, Maglev slots, counters, conntrack
#   6. the flow log of what happened (sluice flows) and the service map drawn
#      from it (MAP, default: beside SLUICE)
#   7. everything is removed again, also when a step fails or on Ctrl-C
# usage: k8s-demo.sh [SLUICE [MAP.svg]]   (default: build/sluice build/k8s-demo-map.svg)
set -eu
SLUICE=$(realpath "${1:-build/sluice}")
MAP=${2:-$(dirname "$SLUICE")/k8s-demo-map.svg}
HERE=$(cd "$(dirname "$0")" && pwd)
MANIFESTS=$HERE/k8s
PREFIX=sluice-demo
CLIENT=$PREFIX-default-client
TMP=$(mktemp -d)
SOCK=$TMP/agent.sock

cleanup() {
	status=$?
	echo
	echo "== teardown"
	"$SLUICE" k8s topology down --prefix "$PREFIX" || true
	rm -rf "$TMP"
	left=$(ip netns list 2>/dev/null | grep -c "^$PREFIX-" || true)
	echo "network namespaces left behind: $left"
	[ "$status" -eq 0 ] || echo "demo FAILED (exit $status)"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo; echo "== $*"; }
show() { echo "\$ $*"; "$@"; }
# spread URL N [NETNS]: curl N times through a service from the client pod
# (or NETNS); count the answers
spread() {
	i=0
	while [ "$i" -lt "$2" ]; do
		ip netns exec "${3:-$CLIENT}" curl -sf -m 2 "$1" || echo "(failed)"
		i=$((i + 1))
	done | sort | uniq -c | awk '{printf "    %-8s %3d requests\n", $2, $1}'
}

if [ "$(id -u)" -ne 0 ]; then
	echo "k8s-demo: network namespaces and eBPF need root"
	exit 1
fi
# a demo interrupted by a power cut leaves its namespaces: start clean
"$SLUICE" k8s topology down --prefix "$PREFIX" >/dev/null

step "1. the topology: one node, 2 namespaces (shop, blog), a client and 6 backend pods"
show "$SLUICE" k8s topology up -f "$MANIFESTS" --prefix "$PREFIX"

step "2. the agent loads datapath/lb.o (TC on every pod's veth) and applies the manifests"
show "$SLUICE" k8s agent --netns "$PREFIX-node" --socket "$SOCK" --daemon
show "$SLUICE" k8s apply -f "$MANIFESTS" --socket "$SOCK"
show "$SLUICE" k8s status --socket "$SOCK"

step "3. curl from the client pod through the services (each request a new connection)"
echo "shop/web  http://10.96.0.10/  (ClusterIP, IPv4):"
spread http://10.96.0.10/ 30
echo "shop/web  http://[fd00:10:96::a]/  (ClusterIP, IPv6):"
spread "http://[fd00:10:96::a]/" 30
echo "blog/api  http://10.96.0.20/  (ClusterIP):"
spread http://10.96.0.20/ 30
echo "blog/api  http://10.0.0.1:30080/  (NodePort):"
spread http://10.0.0.1:30080/ 30
echo "shop/web  http://10.96.0.10/  from web-1, itself a backend (hairpin):"
spread http://10.96.0.10/ 30 "$PREFIX-shop-web-1"

step "4. web-3 goes away: 300 flows (fixed source ports) before and after"
# (a flow that fails shows as "-": the summary lines say how many did)
flows300() {
	"$SLUICE" k8s probe --netns "$CLIENT" 10.96.0.10 80 --flows 300 --sport 42000 \
		--timeout 2000 -v >"$1" || true
	grep 'flows to' "$1" | sed 's/^/    /'
}
flows300 "$TMP/before"
show "$SLUICE" k8s apply -f "$MANIFESTS/changes/web-without-web-3.yaml" --socket "$SOCK"
flows300 "$TMP/after"
awk '$1 == "flow" {print $6}' "$TMP/before" >"$TMP/b"
awk '$1 == "flow" {print $6}' "$TMP/after" >"$TMP/a"
echo "    backend  flows  moved"
paste "$TMP/b" "$TMP/a" | awk '{ n[$1]++; moved[$1] += $1 != $2 }
	END { for (b in n) printf "    %-7s %6d %6d\n", b, n[b], moved[b] }' | sort
echo "    where the moved flows went:"
paste "$TMP/b" "$TMP/a" | awk '$1 != $2 {print "      " $1 " -> " $2}' | sort | uniq -c
echo "curl after the change:"
spread http://10.96.0.10/ 30

step "5. the agent's view: frontends, Maglev slots, counters, the latest flows in conntrack"
show "$SLUICE" k8s status --socket "$SOCK"

step "6. the flow log: what the datapath reported (the last 12 records), then the service map"
show "$SLUICE" flows --socket "$SOCK" --last 12
show "$SLUICE" k8s map --socket "$SOCK" -o "$MAP"
