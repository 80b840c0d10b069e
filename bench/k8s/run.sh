#!/bin/sh
# bench/k8s: Sluice's eBPF service load balancing against kube-proxy's rule
# layouts, side by side in one run, on one topology (a client pod, a
# forwarding node, 3 endpoint pods; network namespaces), for N services of
# 3 endpoints each:
#   none       no service routing: the client connects to an endpoint
#   iptables   kube-proxy's iptables mode (KUBE-SERVICES -> KUBE-SVC-* ->
#              KUBE-SEP-*, statistic --mode random), iptables-restore, nft backend
#   legacy     the same rules with iptables-legacy
#   nftables   kube-proxy's nftables mode (service-ips verdict map on
#              daddr . l4proto . dport, numgen random mod 3 vmap), nft -f
#   ipvs       needs IP_VS in the kernel: "not available" when it is not
#   sluice     sluice k8s agent + apply (TC, Maglev, conntrack)
# Per mode and N: connect latency (median, p99) to the first and the last
# service address, request latency on an established connection, iperf3
# throughput, the time to load the N services and to add one more (for
# Sluice also whether open connections survived the addition).
# Writes OUT/results.txt, OUT/results.dat and the chart OUT/k8s-bench.svg.
# usage: run.sh SLUICE OUTDIR [N...]   (default N: 100 1000 5000 10000)
set -eu
SLUICE=$(realpath "$1")
OUT=$2
shift 2
SIZES=${*:-100 1000 5000 10000}
CONNECTS=${CONNECTS:-2000}   # connects per latency measurement
REQUESTS=${REQUESTS:-2000}   # requests on one connection
P=skbench
NODE=$P-node
CLIENT=$P-default-client
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
TMP=$(mktemp -d)
SOCK=$TMP/agent.sock
AGENT_PID=

cleanup() {
	"$SLUICE" k8s topology down --prefix "$P" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "bench-k8s: needs root (network namespaces)"; exit 1; }
for tool in iptables-restore nft iperf3 gnuplot; do
	command -v "$tool" >/dev/null || { echo "bench-k8s: $tool is missing (make bench-k8s installs it)"; exit 1; }
done

# Service i's address: 10.96.0.1 onwards
vip() { echo "10.96.$(($1 / 250)).$(($1 % 250 + 1))"; }

# The topology: client, node, 3 endpoint pods answering on 8080 (echo) and 5201 (iperf3)
cat >"$TMP/pods.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: node-1}
status: {podIP: 10.244.0.10}
EOF
for e in 1 2 3; do
	cat >>"$TMP/pods.yaml" <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: ep-$e, labels: {app: ep}}
spec:
  nodeName: node-1
  containers:
    - ports: [{name: http, containerPort: 8080}]
status: {podIP: 10.244.1.1$e}
EOF
done
"$SLUICE" k8s topology down --prefix "$P" >/dev/null
"$SLUICE" k8s topology up -f "$TMP/pods.yaml" --prefix "$P" >/dev/null
for e in 1 2 3; do
	ip netns exec "$P-default-ep-$e" iperf3 -s -D -p 5201 >/dev/null
done

# --- rule generators (awk: 10,000 services in well under a second) ---

# kube-proxy's iptables-restore input for services FIRST..LAST; with a
# partial update (kube-proxy's MinimizeIPTablesRestore) KUBE-SERVICES is
# rewritten whole and only the new service's chains are added.
iptables_rules() { # FIRST LAST ALL_LAST
	awk -v first="$1" -v last="$2" -v all="$3" '
	function vip(i) { return "10.96." int(i / 250) "." (i % 250 + 1) }
	BEGIN {
		print "*nat"
		print ":KUBE-SERVICES - [0:0]"
		print ":KUBE-MARK-MASQ - [0:0]"
		for (i = first; i <= last; i++) {
			printf ":KUBE-SVC-%012X - [0:0]\n", i
			for (e = 1; e <= 3; e++) printf ":KUBE-SEP-%010X%02d - [0:0]\n", i, e
		}
		if (first == 0) {
			print "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
			print "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"
		}
		for (i = 0; i <= all; i++)
			printf "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"default/svc-%d:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-%012X\n", vip(i), i, i
		for (i = first; i <= last; i++) {
			printf "-A KUBE-SVC-%012X -m comment --comment \"default/svc-%d:http -> 10.244.1.11:8080\" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-%010X01\n", i, i, i
			printf "-A KUBE-SVC-%012X -m comment --comment \"default/svc-%d:http -> 10.244.1.12:8080\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-%010X02\n", i, i, i
			printf "-A KUBE-SVC-%012X -m comment --comment \"default/svc-%d:http -> 10.244.1.13:8080\" -j KUBE-SEP-%010X03\n", i, i, i
			for (e = 1; e <= 3; e++) {
				printf "-A KUBE-SEP-%010X%02d -s 10.244.1.1%d/32 -j KUBE-MARK-MASQ\n", i, e, e
				printf "-A KUBE-SEP-%010X%02d -p tcp -m tcp -j DNAT --to-destination 10.244.1.1%d:8080\n", i, e, e
			}
		}
		print "COMMIT"
	}'
}

# kube-proxy's nftables layout for services FIRST..LAST (the table and its
# fixed chains only with the first).
nft_rules() { # FIRST LAST
	awk -v first="$1" -v last="$2" '
	function vip(i) { return "10.96." int(i / 250) "." (i % 250 + 1) }
	BEGIN {
		if (first == 0) {
			print "table ip kube-proxy {"
			print "  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }"
			print "  chain mark-for-masquerade { meta mark set meta mark | 0x4000; }"
			print "  chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }"
			print "  chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }"
			print "}"
		}
		for (i = first; i <= last; i++) {
			for (e = 1; e <= 3; e++) {
				printf "add chain ip kube-proxy endpoint-%d-%d\n", i, e
				printf "add rule ip kube-proxy endpoint-%d-%d ip saddr 10.244.1.1%d jump mark-for-masquerade\n", i, e, e
				printf "add rule ip kube-proxy endpoint-%d-%d meta l4proto tcp dnat to 10.244.1.1%d:8080\n", i, e, e
			}
			printf "add chain ip kube-proxy service-%d-default-svc-%d-tcp-http\n", i, i
			printf "add rule ip kube-proxy service-%d-default-svc-%d-tcp-http numgen random mod 3 vmap { 0 : goto endpoint-%d-1, 1 : goto endpoint-%d-2, 2 : goto endpoint-%d-3 }\n", i, i, i, i, i
			printf "add element ip kube-proxy service-ips { %s . tcp . 80 : goto service-%d-default-svc-%d-tcp-http }\n", vip(i), i, i
		}
	}'
}

# Services FIRST..LAST with their EndpointSlices, for Sluice.
sluice_manifests() { # FIRST LAST
	awk -v first="$1" -v last="$2" '
	function vip(i) { return "10.96." int(i / 250) "." (i % 250 + 1) }
	BEGIN {
		for (i = first; i <= last; i++) {
			printf "---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%d}\n", i
			printf "spec:\n  clusterIP: %s\n  ports: [{name: http, port: 80, targetPort: 8080}]\n", vip(i)
			printf "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
			printf "metadata: {name: svc-%d-1, labels: {kubernetes.io/service-name: svc-%d}}\n", i, i
			printf "addressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n"
			for (e = 1; e <= 3; e++) printf "  - addresses: [10.244.1.1%d]\n", e
		}
	}'
}

# The iperf3 service: one endpoint, since iperf3's two connections must meet one server.
iperf_rules() {
	case $1 in
	iptables|legacy) printf '*nat\n-A PREROUTING -d 10.96.250.1/32 -p tcp -m tcp --dport 5201 -j DNAT --to-destination 10.244.1.11:5201\nCOMMIT\n' ;;
	nftables) printf '%s\n' "add chain ip kube-proxy endpoint-iperf" \
		"add rule ip kube-proxy endpoint-iperf meta l4proto tcp dnat to 10.244.1.11:5201" \
		"add element ip kube-proxy service-ips { 10.96.250.1 . tcp . 5201 : goto endpoint-iperf }" ;;
	sluice) printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: iperf}\nspec:\n  clusterIP: 10.96.250.1\n  ports: [{name: iperf, port: 5201}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: iperf-1, labels: {kubernetes.io/service-name: iperf}}\naddressType: IPv4\nports: [{name: iperf, port: 5201}]\nendpoints:\n  - addresses: [10.244.1.11]\n' ;;
	esac
}

now_ms() { date +%s%N | awk '{printf "%.1f", $1 / 1e6}'; }
in_node() { ip netns exec "$NODE" "$@"; }

# Load services FIRST..LAST (ALL_LAST: the last one present afterwards) in a mode.
load() { # MODE FIRST LAST ALL_LAST
	case $1 in
	iptables) iptables_rules "$2" "$3" "$4" >"$TMP/rules"
		[ "$2" -eq 0 ] && iptables_load=iptables-restore || iptables_load="iptables-restore --noflush"
		in_node $iptables_load <"$TMP/rules" ;;
	legacy) iptables_rules "$2" "$3" "$4" >"$TMP/rules"
		[ "$2" -eq 0 ] && iptables_load=iptables-legacy-restore || iptables_load="iptables-legacy-restore --noflush"
		in_node $iptables_load <"$TMP/rules" ;;
	nftables) nft_rules "$2" "$3" >"$TMP/rules"
		in_node nft -f "$TMP/rules" ;;
	sluice) sluice_manifests "$2" "$3" >"$TMP/svc.yaml"
		"$SLUICE" k8s apply -f "$TMP/svc.yaml" --socket "$SOCK" >"$TMP/apply.out" ;;
	esac
}

start_mode() {
	case $1 in
	sluice) "$SLUICE" k8s agent --netns "$NODE" --socket "$SOCK" --ext-if none \
			--table-entries 16777216 --daemon --pidfile "$TMP/agent.pid" >/dev/null
		AGENT_PID=$(cat "$TMP/agent.pid")
		# the agent attaches to the pods' veths on its first apply
		"$SLUICE" k8s apply -f "$TMP/pods.yaml" --socket "$SOCK" >/dev/null ;;
	esac
}

stop_mode() {
	case $1 in
	iptables) in_node iptables -t nat -F; in_node iptables -t nat -X ;;
	legacy) in_node iptables-legacy -t nat -F; in_node iptables-legacy -t nat -X ;;
	nftables) in_node nft delete table ip kube-proxy ;;
	sluice) kill "$AGENT_PID"
		while kill -0 "$AGENT_PID" 2>/dev/null; do sleep 0.05; done ;;
	esac
}

# "p50 p99" connect latency in microseconds, N fresh connections to ADDR PORT
connect_us() {
	"$SLUICE" k8s --json probe --netns "$CLIENT" "$1" "$2" --flows "$CONNECTS" --timeout 1000 |
		sed 's/.*"connect_p50_ns":\([0-9]*\).*"connect_p99_ns":\([0-9]*\).*/\1 \2/' |
		awk '{printf "%.1f %.1f", $1 / 1e3, $2 / 1e3}'
}
# mean request round trip on one established connection, in microseconds
request_us() {
	"$SLUICE" k8s --json probe --netns "$CLIENT" "$1" "$2" --requests "$REQUESTS" --timeout 1000 |
		sed 's/.*"request_p50_ns":\([0-9]*\).*/\1/' | awk '{printf "%.1f", $1 / 1e3}'
}
throughput_gbps() {
	ip netns exec "$CLIENT" iperf3 -c "$1" -p 5201 -t 2 -J 2>/dev/null |
		awk -F'[:,]' '/"bits_per_second"/ {v = $2} END {printf "%.2f", v / 1e9}'
}

ipvs=available
[ -d /proc/sys/net/ipv4/vs ] || ipvs="not available (kernel without IP_VS)"

printf '%-9s %6s %21s %21s %9s %7s %9s %9s %s\n' mode N "connect first p50/p99" \
	"connect last p50/p99" "request" Gbit/s "load ms" "add-1 ms" "open connections" >"$OUT/results.txt"
printf '%-9s %6s %21s %21s %9s %7s %9s %9s\n' "" "" "(us)" "(us)" "mean us" "" "" "" >>"$OUT/results.txt"
echo "# mode N first_p50 first_p99 last_p50 last_p99 req_mean gbps load_ms add_ms" >"$OUT/results.dat"
cat "$OUT/results.txt"

row() { # MODE N first last req gbps load add note
	printf '%-9s %6s %21s %21s %9s %7s %9s %9s %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" |
		tee -a "$OUT/results.txt"
	echo "$1 $2 $3 $4 $5 $6 $7 $8" | tr / ' ' >>"$OUT/results.dat"
}

for n in $SIZES; do
	last=$((n - 1))
	# no service routing: the endpoint itself
	first=$(connect_us 10.244.1.11 8080)
	req=$(request_us 10.244.1.11 8080)
	gbps=$(throughput_gbps 10.244.1.11)
	row none "$n" "${first% *}/${first#* }" "${first% *}/${first#* }" "$req" "$gbps" - - ""
	for mode in iptables legacy nftables sluice; do
		start_mode $mode
		t0=$(now_ms)
		load $mode 0 "$last" "$last"
		t1=$(now_ms)
		case $mode in
		sluice) iperf_rules sluice >"$TMP/iperf.yaml"
			"$SLUICE" k8s apply -f "$TMP/iperf.yaml" --socket "$SOCK" >/dev/null ;;
		nftables) iperf_rules nftables >"$TMP/iperf.nft"; in_node nft -f "$TMP/iperf.nft" ;;
		iptables) iperf_rules iptables | in_node iptables-restore --noflush ;;
		legacy) iperf_rules legacy | in_node iptables-legacy-restore --noflush ;;
		esac
		first=$(connect_us "$(vip 0)" 80)
		lastlat=$(connect_us "$(vip "$last")" 80)
		req=$(request_us "$(vip "$last")" 80)
		gbps=$(throughput_gbps 10.96.250.1)
		# add one service while 3 connections to the last one send a request every 20 ms
		"$SLUICE" k8s probe --netns "$CLIENT" "$(vip "$last")" 80 --flows 3 --requests 100 \
			--interval 20 >"$TMP/open.out" 2>&1 &
		open=$!
		sleep 0.2
		t2=$(now_ms)
		load $mode "$n" "$n" "$n"
		t3=$(now_ms)
		if wait $open; then note="kept"; else note="BROKEN"; fi
		[ $mode = sluice ] && note="$note; maps updated in $(sed -n 's/.*maps updated in \([0-9]*\) us.*/\1/p' "$TMP/apply.out") us"
		row $mode "$n" "${first% *}/${first#* }" "${lastlat% *}/${lastlat#* }" \
			"$req" "$gbps" "$(echo "$t1 $t0" | awk '{printf "%.0f", $1 - $2}')" \
			"$(echo "$t3 $t2" | awk '{printf "%.1f", $1 - $2}')" "$note"
		stop_mode $mode
	done
	printf '%-9s %6s %s\n' ipvs "$n" "$ipvs" | tee -a "$OUT/results.txt"
done

# The chart: connect latency to the last service, and load time, against N
gnuplot <<EOF
set terminal svg size 1000,420 font "sans,11"
set output "$OUT/k8s-bench.svg"
set multiplot layout 1,2 title "Service routing: kube-proxy's rule layouts vs Sluice's eBPF datapath (3 endpoints per service)"
set logscale x
set key top left
set grid
set xlabel "services (N)"
set ylabel "connect latency to the last service, median (us)"
dat = "$OUT/results.dat"
plot for [m in "none iptables legacy nftables sluice"] sprintf("< grep '^%s ' %s", m, dat) using 2:5 with linespoints title m
set logscale y
set ylabel "time to load N services (ms)"
plot for [m in "iptables legacy nftables sluice"] sprintf("< grep '^%s ' %s", m, dat) using 2:9 with linespoints title m
unset multiplot
EOF
echo "results: $OUT/results.txt, chart: $OUT/k8s-bench.svg"
