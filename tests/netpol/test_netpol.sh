#!/bin/sh
# NetworkPolicy truth tables, in the style of Kubernetes' network-policy e2e
# tests: namespaces x, y, z with pods a, b, c each (manifests/base), and for
# every case in cases/ (NN-name.yaml: the policies; NN-name.expect: the
# expected reachability, see expect.awk) the policies replace the previous
# case's, then every pod connects to every pod on TCP 80, 81 and UDP 53,
# 80, 81 at once (`sluice k8s reach`) and the grids must be the expected
# ones.  Then what a table cannot show: a policy change while a connection
# is open, a relabelled pod, a service's backend judged by the client's
# egress policy after the DNAT, `sluice k8s why`, drop counters, a bad
# policy refused with nothing applied, and HTTP rules with real curl requests.
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_netpol.sh SLUICE NETPOL_DIR HTTP_SPLIT
set -u
SLUICE=$1
DIR=$2
HTTP_SPLIT=$3
EXAMPLES=$DIR/manifests/base
NAME=netpol
# a denied connection costs one timeout, every grid of a case waits it once
TIMEOUT=${NETPOL_TIMEOUT_MS:-400}
GRIDS="TCP/80 TCP/81 UDP/53 UDP/80 UDP/81"
. "$DIR/../k8s/lib.sh"
setup --ct-gc-interval 0
printf '%s\n' x/a x/b x/c y/a y/b y/c z/a z/b z/c >"$TMP/pods"

reach() {
	"$SLUICE" k8s reach -f "$EXAMPLES" --prefix "$P" --port 80 --port 81 --timeout "$TIMEOUT" &&
	"$SLUICE" k8s reach -f "$EXAMPLES" --prefix "$P" --udp --port 53 --port 80 --port 81 \
		--timeout "$TIMEOUT"
}
# policies FILE...: the base cluster and these, nothing else
policies() {
	for f in "$@"; do set -- "$@" -f "$f"; shift; done
	"$SLUICE" k8s apply --replace -f "$EXAMPLES" "$@" --socket "$SOCK"
}
# table NAME EXPECT: the grids now must be EXPECT's (one more look when not:
# an allowed connection on a busy machine may miss the timeout)
table() {
	awk -v PODS="$TMP/pods" -v GRIDS="$GRIDS" -f "$DIR/expect.awk" "$2" >"$TMP/want"
	reach >"$TMP/got" 2>&1
	if ! cmp -s "$TMP/want" "$TMP/got"; then
		reach >"$TMP/got" 2>&1
	fi
	if cmp -s "$TMP/want" "$TMP/got"; then
		ok "$1"
	else
		diff "$TMP/want" "$TMP/got" >"$TMP/out"
		not_ok "$1 (< expected, > seen)"
	fi
}

for yaml in "$DIR"/cases/*.yaml; do
	name=$(basename "$yaml" .yaml)
	if ! policies "$yaml" >"$TMP/out" 2>&1; then
		not_ok "$name: apply"
		continue
	fi
	table "$name" "${yaml%.yaml}.expect"
done

# drops are counted by reason: the last case denied on both sides
"$SLUICE" k8s policy --json --socket "$SOCK" >"$TMP/out" 2>&1
if grep -q '"denied_ingress":[1-9]' "$TMP/out" && grep -q '"denied_egress":[1-9]' "$TMP/out"; then
	ok "drops counted per reason"
else
	not_ok "drops counted per reason"
fi

# why: the allowing rule, or the policies whose default denied
policies "$DIR/cases/05-namespace-and-pod.yaml" >/dev/null
check "why: allowed" sh -c "'$SLUICE' k8s why 10.10.2.2 10.10.1.1 80 --socket '$SOCK' |
	grep -q 'ingress at x/a (10.10.1.1): allowed by NetworkPolicy x/ns-and-pod ingress\[0\]'"
check "why: denied by default" sh -c "'$SLUICE' k8s why 10.10.3.2 10.10.1.1 81 --proto udp \
	--socket '$SOCK' | grep -q 'denied by default: selected by NetworkPolicy x/ns-and-pod'"

# a bad policy: the error names file, object and field; the revision stays
rev() { "$SLUICE" k8s policy --json --socket "$SOCK" | sed 's/.*"revision":\([0-9]*\).*/\1/'; }
before=$(rev)
if ! "$SLUICE" k8s apply -f "$DIR/bad/block-and-selector.yaml" --socket "$SOCK" >"$TMP/out" 2>&1 &&
   grep -q 'block-and-selector.yaml:[0-9]*: NetworkPolicy x/bad: spec.ingress\[0\].from\[0\]: ipBlock cannot be combined' "$TMP/out" &&
   [ "$(rev)" = "$before" ]; then
	ok "a bad policy is refused, nothing applied"
else
	not_ok "a bad policy is refused, nothing applied"
fi

# A policy change while a connection is open: the next packet of the flow is
# judged by the new policy.  One request, then another 1.5 s later.
policies >/dev/null
hold() {
	"$SLUICE" k8s probe --netns "$P-x-a" 10.10.2.1 80 --requests 2 --interval 1500 \
		--timeout 1000 >"$TMP/held" 2>&1
}
hold &
held=$!
sleep 0.5
policies "$DIR/cases/19-policy-types-egress-only.yaml" >/dev/null # x/a may reach x only
wait $held
if grep -q ' 1 failed' "$TMP/held"; then
	ok "an open connection stops at its next packet once a new policy denies it"
else
	cp "$TMP/held" "$TMP/out"
	not_ok "an open connection stops at its next packet once a new policy denies it"
fi
policies >/dev/null
hold &
held=$!
sleep 0.5
policies "$DIR/cases/02-deny-all-ingress.yaml" >/dev/null # about x only
wait $held
if grep -q ' 0 failed' "$TMP/held"; then
	ok "an open connection the new policy still allows goes on"
else
	cp "$TMP/held" "$TMP/out"
	not_ok "an open connection the new policy still allows goes on"
fi

# Relabelling: y/b takes y/a's labels, so y/a's identity: only y/b's ipcache
# entry changes, no rule; then new labels, a new identity
policies "$DIR/cases/05-namespace-and-pod.yaml" >/dev/null
"$SLUICE" k8s apply -f "$DIR/manifests/relabel-yb-as-ya.yaml" --socket "$SOCK" >"$TMP/out" 2>&1
# (two entries change: the pod's IPv4 and IPv6 addresses)
if grep -q "policy rules +0 ~0 -[0-9]*, ipcache +0 ~2 -0," "$TMP/out"; then
	ok "relabel to an existing identity: its ipcache entries changed, no rule written"
else
	not_ok "relabel to an existing identity: its ipcache entries changed, no rule written"
fi
printf '*/* * x/a .\n' >"$TMP/expect"
table "after the relabel y/b no longer reaches x/a" "$TMP/expect"
"$SLUICE" k8s apply -f "$DIR/manifests/relabel-ya-as-yb.yaml" --socket "$SOCK" >/dev/null
printf '*/* * x/a .\n*/* y/a x/a X\n' >"$TMP/expect"
table "after the relabel y/a (now pod: b) reaches x/a" "$TMP/expect"

# Egress after the service DNAT: x/a may reach y/c only; a service whose
# backend is y/b is denied, one whose backend is y/c allowed
policies "$DIR/manifests/services.yaml" "$DIR/manifests/xa-to-yc-only.yaml" >/dev/null
svc() { "$SLUICE" k8s probe --netns "$P-x-a" "$1" 80 --timeout 500 2>&1; }
if svc 10.96.10.3 | grep -q ' 0 failed' && svc 10.96.10.2 | grep -q ' 1 failed'; then
	ok "egress policy judges the service's backend, after the DNAT"
else
	{ svc 10.96.10.3; svc 10.96.10.2; } >"$TMP/out"
	not_ok "egress policy judges the service's backend, after the DNAT"
fi

# IPv6: an ipBlock with except over the pods' IPv6 addresses
policies "$DIR/manifests/v6-block.yaml" >/dev/null
v6() { # v6 FROM_POD ADDR [--udp]: "0 failed" when reached
	ns=$1
	addr=$2
	shift 2
	"$SLUICE" k8s probe --netns "$P-$ns" "$addr" 80 --timeout 500 "$@" 2>&1 |
		grep -o ' [01] failed'
}
if [ "$(v6 y-a fd00:10:1::1)" = " 0 failed" ] && [ "$(v6 y-a fd00:10:1::1 --udp)" = " 0 failed" ] &&
   [ "$(v6 y-b fd00:10:1::1)" = " 1 failed" ] && [ "$(v6 z-a fd00:10:1::1)" = " 1 failed" ] &&
   [ "$(v6 y-a 10.10.1.1)" = " 1 failed" ] && [ "$(v6 z-a fd00:10:2::2)" = " 0 failed" ]; then
	ok "IPv6: ipBlock with except, TCP and UDP (the IPv4 address is not in it)"
else
	for args in "y-a fd00:10:1::1" "y-a fd00:10:1::1 --udp" "y-b fd00:10:1::1" \
		"z-a fd00:10:1::1" "y-a 10.10.1.1" "z-a fd00:10:2::2"; do
		# shellcheck disable=SC2086 # a list of arguments
		echo "$args: $(v6 $args)"
	done >"$TMP/out"
	not_ok "IPv6: ipBlock with except, TCP and UDP (the IPv4 address is not in it)"
fi

# HTTP rules (CiliumNetworkPolicy) on x/a's port 80: GET /api/* and GET
# /health pass untouched (the same bytes as from the free port 81); anything
# else, malformed or too long for the datapath's window included, is reset
policies "$DIR/manifests/http-xa.yaml" "$DIR/manifests/services.yaml" >/dev/null
get() { # get URL CURL_OPTIONS...: the response (headers too), then curl's exit code
	url=$1
	shift
	ip netns exec "$P-x-b" curl -s -i -m 2 "$@" "$url" 2>&1
	echo "exit $?"
}
for path in /api/data /api/ /health; do
	get "http://10.10.1.1:81$path" | sed 's/^Date: .*//' >"$TMP/free"
	get "http://10.10.1.1$path" | sed 's/^Date: .*//' >"$TMP/out"
	if grep -q '^HTTP/1.1 200' "$TMP/out" && cmp -s "$TMP/free" "$TMP/out"; then
		ok "http: GET $path allowed, byte for byte"
	else
		not_ok "http: GET $path allowed, byte for byte"
	fi
done
check "http: HTTP/1.0 GET /health allowed" sh -c "ip netns exec '$P-x-b' curl -s -0 -m 2 \
	http://10.10.1.1/health | grep -qx a"
long=/api/$(printf '%0300d' 0)
for req in "POST /api/data|-X POST" "GET /admin|" "GET /healthz (exact path)|" \
	"lowercase method|-X get" "a target without / (malformed)|--request-target api/data" \
	"a 300-byte path (over the window)|" "a GET with a body|-X GET -d x=1"; do
	what=${req%%|*}
	opts=${req#*|}
	url=http://10.10.1.1/admin
	case $what in
	POST* | *body) url=http://10.10.1.1/api/data ;;
	*healthz*) url=http://10.10.1.1/healthz ;;
	lowercase* | *target*) url=http://10.10.1.1/api/data ;;
	*300-byte*) url=http://10.10.1.1$long ;;
	esac
	# shellcheck disable=SC2086 # opts is a list of options
	get "$url" $opts >"$TMP/out"
	if grep -qx 'exit 56' "$TMP/out"; then
		ok "http: $what is reset"
	else
		not_ok "http: $what is reset"
	fi
done
# a request split across segments: the first is no whole head, so it is
# refused (fail closed); the same request in one segment passes
split() { ip netns exec "$P-x-b" "$HTTP_SPLIT" "$1" "$2" /api/data 2>&1; }
if [ "$(split 10.10.1.1 80)" = reset ] && [ "$(split 10.10.1.1 81)" = response ]; then
	ok "http: a request split across segments is reset (the free port answers it)"
else
	echo "port 80: $(split 10.10.1.1 80), port 81: $(split 10.10.1.1 81)" >"$TMP/out"
	not_ok "http: a request split across segments is reset (the free port answers it)"
fi
check "http: the server keeps no connection of a reset request" sh -c \
	"[ \$(ip netns exec '$P-x-a' ss -Htn state established '( sport = :80 )' | wc -l) -eq 0 ]"
get http://10.96.10.1/api/data >"$TMP/out"
get http://10.96.10.1/admin >>"$TMP/out"
if grep -q '^HTTP/1.1 200' "$TMP/out" && [ "$(grep -c 'exit 56' "$TMP/out")" -eq 1 ]; then
	ok "http: through a service, allowed passes and denied is reset (reverse NAT applies)"
else
	not_ok "http: through a service, allowed passes and denied is reset (reverse NAT applies)"
fi
"$SLUICE" k8s policy --json --socket "$SOCK" >"$TMP/counters" 2>&1
check "http: resets counted" grep -q '"denied_http":[1-9]' "$TMP/counters"
finish
