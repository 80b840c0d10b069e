#!/bin/sh
# bench/policy: what a NetworkPolicy of N rules costs a new connection, with
# Sluice's datapath against the same policy as iptables rules, side by side
# in one run.  One client pod, one server pod (network namespaces) and the
# node forwarding between them.  The policy: the server takes TCP 80 from N
# source addresses, /32s of 10.200.0.0/16 and, last, the client's:
#   none      no policy at all (the baseline)
#   iptables  the node's FORWARD chain as Calico's iptables mode or
#             kube-router write it: established flows first, then one ACCEPT
#             per allowed source, then DROP (iptables-restore, nft backend)
#   sluice    one NetworkPolicy with N ipBlock peers (N CIDR identities, N
#             entries in the ipcache and the rule trie), the agent's datapath
# A new connection walks the whole chain with iptables (the client's rule
# is the last) and makes a few LPM lookups with Sluice.  Reports the
# connect latency (median, p99) of CONNECTS fresh connections, their cost
# over the baseline, and the ratio iptables / Sluice of those costs.
# usage: run.sh SLUICE [N...]   (default N: 10 100 1000 10000)
set -eu
SLUICE=$(realpath "$1")
shift
SIZES=${*:-10 100 1000 10000}
CONNECTS=${CONNECTS:-2000}
P=sbpol
CLIENT=$P-a-client
TMP=$(mktemp -d)
SOCK=$TMP/agent.sock

cleanup() {
	"$SLUICE" k8s topology down --prefix "$P" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/base.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a, labels: {app: client}}
spec: {nodeName: node-1, containers: [{name: m}]}
status: {podIP: 10.30.0.10}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: b, labels: {app: server}}
spec: {nodeName: node-1, containers: [{name: m, ports: [{containerPort: 80}]}]}
status: {podIP: 10.30.1.10}
YAML

# source address i (0 <= i < 65536) of the N allowed
src() { echo "10.200.$(($1 / 256)).$(($1 % 256))"; }

policy() { # policy N: the NetworkPolicy, N - 1 other sources then the client
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n'
	printf 'metadata: {name: n, namespace: b}\nspec:\n  podSelector: {}\n'
	printf '  ingress:\n    - ports: [{port: 80}]\n      from:\n'
	i=0
	while [ "$i" -lt $(($1 - 1)) ]; do
		printf '        - ipBlock: {cidr: %s/32}\n' "$(src "$i")"
		i=$((i + 1))
	done
	printf '        - ipBlock: {cidr: 10.30.0.10/32}\n'
}

iptables_rules() { # iptables_rules N: the same policy for iptables-restore
	printf '*filter\n:FORWARD ACCEPT [0:0]\n:POLICY-B - [0:0]\n'
	printf -- '-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n'
	printf -- '-A FORWARD -d 10.30.1.10/32 -j POLICY-B\n'
	i=0
	while [ "$i" -lt $(($1 - 1)) ]; do
		printf -- '-A POLICY-B -s %s/32 -p tcp --dport 80 -j ACCEPT\n' "$(src "$i")"
		i=$((i + 1))
	done
	printf -- '-A POLICY-B -s 10.30.0.10/32 -p tcp --dport 80 -j ACCEPT\n-A POLICY-B -j DROP\nCOMMIT\n'
}

connect_us() { # "p50 p99" in microseconds
	"$SLUICE" k8s --json probe --netns "$CLIENT" 10.30.1.10 80 --flows "$CONNECTS" \
		--timeout 1000 |
		sed 's/.*"connect_p50_ns":\([0-9]*\).*"connect_p99_ns":\([0-9]*\).*/\1 \2/' |
		awk '{printf "%.1f %.1f", $1 / 1e3, $2 / 1e3}'
}

"$SLUICE" k8s topology up -f "$TMP/base.yaml" --prefix "$P" >/dev/null
"$SLUICE" k8s agent --netns "$P-node" --socket "$SOCK" --daemon >/dev/null
"$SLUICE" k8s apply --replace -f "$TMP/base.yaml" --socket "$SOCK" >/dev/null
set -- $(connect_us)
base50=$1
base99=$2
printf 'baseline (no policy): connect median %s us, p99 %s us (%s connections)\n' \
	"$base50" "$base99" "$CONNECTS"
printf '%6s %22s %22s %12s %12s %8s %10s\n' N "iptables p50/p99 us" "sluice p50/p99 us" \
	"ipt cost us" "sluice cost" ratio "apply ms"
for n in $SIZES; do
	iptables_rules "$n" >"$TMP/rules"
	ip netns exec "$P-node" iptables-restore <"$TMP/rules"
	set -- $(connect_us)
	ipt50=$1
	ipt99=$2
	ip netns exec "$P-node" iptables -F FORWARD
	ip netns exec "$P-node" iptables -F POLICY-B
	ip netns exec "$P-node" iptables -X POLICY-B
	policy "$n" >"$TMP/policy.yaml"
	t0=$(date +%s%N)
	"$SLUICE" k8s apply -f "$TMP/policy.yaml" --socket "$SOCK" >/dev/null
	t1=$(date +%s%N)
	set -- $(connect_us)
	sl50=$1
	sl99=$2
	"$SLUICE" k8s apply --replace -f "$TMP/base.yaml" --socket "$SOCK" >/dev/null
	awk -v n="$n" -v i5="$ipt50" -v i9="$ipt99" -v s5="$sl50" -v s9="$sl99" -v b="$base50" \
		-v ms="$(((t1 - t0) / 1000000))" 'BEGIN {
		ic = i5 - b
		sc = s5 - b
		r = "-"
		if (sc > 0.5)
			r = sprintf("%.1fx", ic / sc)
		printf "%6d %22s %22s %12.1f %12.1f %8s %10d\n", n, i5 "/" i9, s5 "/" s9, ic, sc, r, ms
	}'
done
echo "cost: connect median minus the baseline's; ratio: iptables cost / Sluice cost (- when Sluice's is within 0.5 us of the baseline)"
