#!/bin/sh
# RED metrics and the service map end to end, from the datapath's flow
# events: the bundled topology, agent and policies (shop's web pods take GET
# and HEAD only), curl from the client pod through shop/web's ClusterIP and
# one POST refused; then `sluice k8s serve-metrics` scraped over HTTP with
# curl: the service's connections, HTTP requests, HTTP latencies and
# refused requests counted, the pod pair's connections too, the exposition
# well-formed (every sample line of a family a TYPE line declared, label
# syntax, histogram buckets cumulative up to +Inf = _count), 404 and 405
# elsewhere, SIGTERM ending it cleanly; and `sluice k8s map` drawing an SVG
# that is well-formed XML naming the client, the service and a backend,
# the refused request in red on the service's edge to its backend.  Usage
# errors exit 2.
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_k8s_observe.sh SLUICE EXAMPLES_K8S_DIR
set -u
SLUICE=$1
EXAMPLES=$2
NAME=k8s_observe
. "$(dirname "$0")/lib.sh"

for args in "serve-metrics" "serve-metrics --listen nowhere" "serve-metrics --listen 127.0.0.1:0" \
	    "map" "map -o $TMP/x.gif"; do
	# shellcheck disable=SC2086 # args is a command line
	usage_error "k8s $args: a usage error" "usage: sluice k8s" "$SLUICE" k8s $args
done

# shellcheck disable=SC2119 # the agent's default options
setup
# shop's policies: its web pods take GET and HEAD only, other requests are reset
check "apply shop's policies, HTTP rules among them" apply "$EXAMPLES/policies"
check "curl through shop/web's ClusterIP, five times" sh -c "for i in 1 2 3 4 5; do
	ip netns exec $CLIENT curl -sf -m 2 http://10.96.0.10/ | grep -Eq '^web-[123]\$' || exit 1
done"
check "a POST through shop/web is refused" sh -c "! ip netns exec $CLIENT curl -sf -m 2 -X POST http://10.96.0.10/"

# a port of this run's own, away from the usual ones
PORT=$((20000 + $$ % 20000))
URL=http://127.0.0.1:$PORT
"$SLUICE" k8s serve-metrics --listen "127.0.0.1:$PORT" --socket "$SOCK" --duration 120 \
	>"$TMP/serve" 2>&1 &
SERVE=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	curl -s -o /dev/null "$URL/" && break
	sleep 0.3
done
if curl -sf -D "$TMP/headers" -o "$TMP/metrics" "$URL/metrics"; then
	ok "scrape $URL/metrics"
else
	not_ok "scrape $URL/metrics"
fi
check "served as text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers"
# counted WHAT PREFIX PATTERN: the samples starting with PREFIX that match PATTERN add up above 0
counted() {
	n=$(awk -v p="$2" -v m="$3" 'index($0, p) == 1 && $0 ~ m { n += $NF } END { print n + 0 }' \
		"$TMP/metrics")
	if [ "$n" -gt 0 ]; then
		ok "$1: $n"
	else
		cp "$TMP/metrics" "$TMP/out"
		not_ok "$1"
	fi
}
SVC='sluice_service_requests_total{service="shop/web",'
counted "shop/web's connections" "$SVC" 'type="flow"}'
counted "shop/web's HTTP requests" "$SVC" 'type="http"}'
counted "the client's pod pairs' connections" \
	'sluice_pod_requests_total{source_namespace="default",source_pod="client",' 'type="flow"}'
counted "shop/web's HTTP latencies" 'sluice_service_duration_seconds_count{service="shop/web",' \
	'type="http"}'
counted "shop/web's requests refused" 'sluice_service_errors_total{service="shop/web",' \
	'reason="http-denied"}'

# Every sample belongs to a family a TYPE line declared before it (histograms:
# NAME_bucket, _sum and _count), with well-formed labels and a number.
# shellcheck disable=SC2016 # an awk program
well_formed='
	/^# TYPE / { type[$3] = $4; next }
	/^# HELP / || /^$/ { next }
	/^#/ { print "stray comment: " $0; bad = 1; next }
	{
		name = $0
		sub(/[{ ].*/, "", name)
		family = name
		if (!(family in type)) {
			sub(/_(bucket|sum|count)$/, "", family)
			if (type[family] != "histogram") { print "no TYPE for " name; bad = 1 }
		}
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [0-9.e+-]+$/) {
			print "malformed: " $0
			bad = 1
		}
		samples++
	}
	END { if (!samples) print "no samples"; exit bad || !samples }'
check "every sample line belongs to a TYPEd family and is well-formed" \
	awk "$well_formed" "$TMP/metrics"
# Buckets never decrease along a series, and +Inf is its _count.
# shellcheck disable=SC2016 # an awk program
cumulative='
	/_bucket\{/ {
		series = $0
		sub(/,le="[^"]*"\} .*/, "", series)
		sub(/_bucket\{/, "{", series)
		if (series == last && $NF < prev) { print "decreasing: " $0; bad = 1 }
		last = series
		prev = $NF
		if ($0 ~ /le="\+Inf"/) inf[series] = $NF
	}
	/_count\{/ {
		series = $0
		sub(/\} .*/, "", series)
		sub(/_count\{/, "{", series)
		if (inf[series] != $NF) { print "+Inf is not the count: " $0; bad = 1 }
	}
	END { exit bad }'
check "histogram buckets are cumulative up to +Inf = _count" awk "$cumulative" "$TMP/metrics"
check "404 off /metrics" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/) = 404 ]"
check "405 for POST" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST $URL/metrics) = 405 ]"
kill -TERM "$SERVE"
if wait "$SERVE" && grep -q "scrapes answered" "$TMP/serve"; then
	ok "serve-metrics ends cleanly on SIGTERM"
else
	cp "$TMP/serve" "$TMP/out"
	not_ok "serve-metrics ends cleanly on SIGTERM"
fi

check "k8s map -o x.svg" "$SLUICE" k8s map -o "$TMP/x.svg" --socket "$SOCK"
check "the SVG is well-formed XML" xmllint --noout "$TMP/x.svg"
# the texts as XML has them (Graphviz writes '-' as &#45;)
xmllint --xpath '//*[local-name()="text"]/text()' "$TMP/x.svg" >"$TMP/texts" 2>&1
check "the SVG shows the client, shop/web and a backend" sh -c "
	grep -qx client $TMP/texts && grep -qx web $TMP/texts && grep -Eqx 'web-[123]' $TMP/texts"
check "k8s map -o x.dot: client -> service -> backend, the refused request in red" sh -c "
	\"$SLUICE\" k8s map -o $TMP/x.dot --socket $SOCK >/dev/null &&
	grep -q '\"pod/default/client\" -> \"svc/shop/web\"' $TMP/x.dot &&
	grep -Eq '\"svc/shop/web\" -> \"pod/shop/web-[123]\"' $TMP/x.dot &&
	grep -Eq '\"svc/shop/web\" -> .*1 dropped \\(http-denied\\).*color=\"red\"' $TMP/x.dot"
finish
