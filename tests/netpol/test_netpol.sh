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
# policy refused with nothing applied, HTTP rules (headers too) with real
# curl requests, a pod reaching itself through its service under deny-all,
# and SCTP with bare packets (sctp_probe).
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_netpol.sh SLUICE NETPOL_DIR HTTP_SPLIT SCTP_PROBE
# (NETPOL_NAME: the namespaces' prefix, netpol by default, then the pid)
set -u
SLUICE=$1
DIR=$2
HTTP_SPLIT=$3
SCTP_PROBE=$4
EXAMPLES=$DIR/manifests/base
NAME=${NETPOL_NAME:-netpol}
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
# refused WHAT FILE PATTERN: applying FILE fails saying PATTERN, the revision stays
refused() {
	before=$(rev)
	if ! "$SLUICE" k8s apply -f "$2" --socket "$SOCK" >"$TMP/out" 2>&1 &&
	   grep -q "$3" "$TMP/out" && [ "$(rev)" = "$before" ]; then
		ok "$1"
	else
		not_ok "$1"
	fi
}
refused "a bad policy is refused, nothing applied" "$DIR/bad/block-and-selector.yaml" \
	'block-and-selector.yaml:[0-9]*: NetworkPolicy x/bad: spec.ingress\[0\].from\[0\]: ipBlock cannot be combined'

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

# HTTP rules with headers: GET /health needs X-Probe (present), GET /api/*
# X-Token: s3cret (exactly, on every X-Token line); names in any case
policies "$DIR/manifests/http-headers.yaml" >/dev/null
hdr() { # hdr WHAT allowed|reset PATH CURL_OPTIONS...
	what=$1
	want=$2
	path=$3
	shift 3
	get "http://10.10.1.1:81$path" "$@" | sed 's/^Date: .*//' >"$TMP/free"
	get "http://10.10.1.1$path" "$@" | sed 's/^Date: .*//' >"$TMP/out"
	if { [ "$want" = allowed ] && grep -q '^HTTP/1.1 200' "$TMP/out" &&
	     cmp -s "$TMP/free" "$TMP/out"; } ||
	   { [ "$want" = reset ] && grep -qx 'exit 56' "$TMP/out"; }; then
		ok "http headers: $what"
	else
		not_ok "http headers: $what"
	fi
}
hdr "GET /health with X-Probe is allowed, byte for byte" allowed /health -H 'X-Probe: 1'
hdr "a name in another case is the same header (x-PROBE)" allowed /health -H 'x-PROBE: yes'
hdr "GET /health without X-Probe is reset" reset /health
hdr "GET /api/data with X-Token: s3cret is allowed" allowed /api/data -H 'X-Token:  s3cret '
hdr "X-Token with another value is reset" reset /api/data -H 'X-Token: s3cre'
hdr "X-Token with a longer value is reset" reset /api/data -H 'X-Token: s3cret2'
hdr "a second X-Token line with another value is reset" reset /api/data \
	-H 'X-Token: s3cret' -H 'X-Token: other'
hdr "the /health rule's header does not open /api/" reset /api/data -H 'X-Probe: 1'
hdr "a required header beyond the 256-byte window is reset" reset /api/data \
	-H "X-Pad: $(printf '%0200d' 0)" -H 'X-Token: s3cret'
# the required header in a second segment: the first is no whole head, so
# the request is refused whatever the header says (the free port answers)
hsplit() { ip netns exec "$P-x-b" "$HTTP_SPLIT" 10.10.1.1 "$1" /api/data 'X-Token: s3cret' 2>&1; }
if [ "$(hsplit 80)" = reset ] && [ "$(hsplit 81)" = response ]; then
	ok "http headers: a required header in the request's second segment is reset"
else
	echo "port 80: $(hsplit 80), port 81: $(hsplit 81)" >"$TMP/out"
	not_ok "http headers: a required header in the request's second segment is reset"
fi
check "http headers: policy shows them (text, JSON)" sh -c "'$SLUICE' k8s policy --socket '$SOCK' |
	grep -q 'http on TCP 80: GET /api/\* with headers x-token: s3cret ' &&
	'$SLUICE' k8s policy --json --socket '$SOCK' | grep -q '\"headers\":\[\"x-probe\"\]'"
check "http headers: why names them" sh -c "'$SLUICE' k8s why 10.10.1.2 10.10.1.1 80 \
	--socket '$SOCK' | grep -q '^  GET /health with headers x-probe  by'"
refused "http headers: a malformed header entry is refused, nothing applied" \
	"$DIR/bad/http-bad-header.yaml" \
	'http-bad-header.yaml:[0-9]*: CiliumNetworkPolicy x/bad-header: spec.ingress\[0\].toPorts\[0\].rules.http\[0\].headers\[1\]: expected "Name" or "Name: value"'

# Hairpin: x/a through its own service while x takes and sends nothing;
# a pod reaching itself is never policed (x/b, through the same service, is)
policies "$DIR/manifests/services.yaml" "$DIR/manifests/deny-all-x.yaml" >/dev/null
if svc 10.96.10.1 | grep -q ' 0 failed' && svc fd00:10:96::a1 | grep -q ' 0 failed' &&
   "$SLUICE" k8s probe --netns "$P-x-b" 10.96.10.1 80 --timeout 500 2>&1 | grep -q ' 1 failed'; then
	ok "hairpin: a pod reaches itself through its service under deny-all both ways (v4, v6)"
else
	{ svc 10.96.10.1; svc fd00:10:96::a1; } >"$TMP/out"
	not_ok "hairpin: a pod reaches itself through its service under deny-all both ways (v4, v6)"
fi
check "hairpin: why says a pod reaching itself is not policed" sh -c "'$SLUICE' k8s why \
	10.10.1.1 10.10.1.1 80 --socket '$SOCK' | grep -q '^allowed: a pod reaching itself'"

# SCTP (case 26's policy): x/a takes SCTP 80 from x/b only and sends
# nothing, so its answers pass as replies; over IPv4 and IPv6
policies "$DIR/cases/26-sctp-only.yaml" >/dev/null
ip netns exec "$P-x-a" "$SCTP_PROBE" serve 80 6000 >"$TMP/served" 2>&1 &
server=$!
sleep 0.3
sctp() { ip netns exec "$P-$1" "$SCTP_PROBE" ask "$2" "$3" 800 2>&1; }
got="$(sctp x-b 10.10.1.1 80) $(sctp x-b fd00:10:1::1 80) $(sctp x-c 10.10.1.1 80) \
$(sctp y-b fd00:10:1::1 80) $(sctp x-b 10.10.1.1 81)"
wait $server
if [ "$got" = "reply reply nothing nothing nothing" ]; then
	ok "sctp: x/b reaches x/a on SCTP 80 (v4, v6) and the replies pass; x/c, y/b and port 81 do not"
else
	echo "x-b v4, x-b v6, x-c, y-b v6, x-b :81: $got; $(cat "$TMP/served")" >"$TMP/out"
	not_ok "sctp: x/b reaches x/a on SCTP 80 (v4, v6) and the replies pass; x/c, y/b and port 81 do not"
fi

# ICMP: only a rule without ports allows it; echo replies and errors about
# allowed flows pass as replies.  pings FROM:ADDR...: ok or no for each
pings() {
	for to in "$@"; do
		if ip netns exec "$P-${to%%:*}" ping -c1 -W1 "${to#*:}" >/dev/null 2>&1; then
			printf 'ok '
		else
			printf 'no '
		fi
	done
}
# icmp WHAT WANT FROM:ADDR...: the pings' outcomes are WANT
icmp() {
	what=$1
	want=$2
	shift 2
	got=$(pings "$@")
	if [ "$got" = "$want" ]; then
		ok "icmp: $what"
	else
		echo "$*: $got, expected $want" >"$TMP/out"
		not_ok "icmp: $what"
	fi
}
policies >/dev/null
icmp "no policy: ping passes (v4, v6)" "ok ok " y-a:10.10.1.1 y-a:fd00:10:1::1
policies "$DIR/cases/02-deny-all-ingress.yaml" >/dev/null
icmp "deny-all ingress: ping into x fails (v4, v6), out of x the replies pass" "no no ok " \
	y-a:10.10.1.1 y-a:fd00:10:1::1 x-a:10.10.2.1
policies "$DIR/cases/05-namespace-and-pod.yaml" >/dev/null
icmp "a rule without ports allows ICMP from its peer only (v4, v6)" "ok ok no " \
	y-b:10.10.1.1 y-b:fd00:10:1::1 y-a:10.10.1.1
check "icmp: why allowed by a rule without ports" sh -c "'$SLUICE' k8s why 10.10.2.2 10.10.1.1 0 \
	--proto icmp --socket '$SOCK' | grep -q 'ingress at x/a (10.10.1.1): allowed by NetworkPolicy x/ns-and-pod ingress\[0\]'"
policies "$DIR/manifests/icmp-tcp-only.yaml" >/dev/null
icmp "a rule with TCP ports only allows no ICMP (v4, v6)" "no no " \
	y-b:10.10.1.1 y-b:fd00:10:1::1
check "icmp: why denied under TCP ports only" sh -c "'$SLUICE' k8s why fd00:10:2::2 fd00:10:1::1 0 \
	--proto icmp --socket '$SOCK' | grep -q '^verdict: denied'"
policies "$DIR/manifests/icmp-egress-deny.yaml" >/dev/null
icmp "echo replies pass the responder's egress deny (v4, v6); its own ping does not" \
	"ok ok no " y-b:10.10.1.1 y-b:fd00:10:1::1 x-a:10.10.2.2
# x/a answers UDP to a closed port with port unreachable, which its egress
# lets out as an error about an allowed flow: the client sees it refused
if "$SLUICE" k8s probe --netns "$P-y-b" 10.10.1.1 9 --udp --timeout 1000 2>&1 |
	grep -q ' 1 failed (1 refused'; then
	ok "icmp: an error about an allowed flow passes the egress deny"
else
	"$SLUICE" k8s probe --netns "$P-y-b" 10.10.1.1 9 --udp --timeout 1000 >"$TMP/out" 2>&1
	not_ok "icmp: an error about an allowed flow passes the egress deny"
fi
finish
