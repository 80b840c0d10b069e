#!/bin/sh
# Flow records end to end, in the kernel, with real traffic: a curl through
# a service address makes NEW, ESTABLISHED and CLOSED records naming the
# client pod, the backend pod, the service and the connection's bytes (over
# IPv6 too; a NodePort from outside: NEW at XDP, from the world); a service
# without backends makes no-backend drops; a deny policy makes dropped
# records (policy-denied) that --verdict dropped selects; HTTP rules make
# request records (method, path; refused ones dropped as http-denied) and
# the responses' status and latency; a UDP flow that ages out is closed by
# the collector; --pod, --last, --since, --follow, a follower that stops
# reading dropped, the bad arguments, no agent, and the lost-event counter
# in `sluice k8s status`.
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# usage: test_k8s_flows.sh SLUICE EXAMPLES_K8S_DIR TEST_MANIFESTS_DIR
set -u
SLUICE=$1
EXAMPLES=$2
MANIFESTS=$3
NAME=k8s_flows
. "$(dirname "$0")/lib.sh"
# UDP flows age out after a second, collected every second
setup --ct-timeout udp=1 --ct-gc-interval 1

flows() { "$SLUICE" flows --socket "$SOCK" "$@"; }
# field NAME: the value of the first "NAME": in each JSON line of stdin (strings unquoted)
field() { sed -n "s/^[^\"]*\\(\"[a-z_]*\":[^{]*\\)*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\2/p"; }
# records of one client port: "type verdict" per line
of_port() { grep "\"source\":{[^}]*\"port\":$1}" "$TMP/flows" | field type; }
curl_vip() { ip netns exec "$CLIENT" curl -sf -m 2 "$@" http://10.96.0.10/; }
# the records come through the ring buffer and the agent's poll: a moment
settle() { sleep 0.5; }

# One connection through the service: new, established, closed, bytes, pods, service
check "curl through the ClusterIP" curl_vip -o /dev/null
settle
flows --json >"$TMP/flows"
port=$(grep '"type":"new"' "$TMP/flows" | grep '"service":"shop/web"' |
       grep '"pod":"client"' | sed -n 's/.*"source":{[^}]*"port":\([0-9]*\)}.*/\1/p' | tail -1)
if [ -n "$port" ] && [ "$(of_port "$port" | sort -u | tr '\n' ' ')" = \
     "closed established http-response new " ]; then
	ok "the connection from client:$port has new, established, closed (and its response)"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "the connection's records (client port '${port:-none}')"
fi
closed=$(grep '"type":"closed"' "$TMP/flows" | grep "\"source\":{[^}]*\"port\":${port:-0}}")
if echo "$closed" | grep -q '"destination":{"namespace":"shop","pod":"web-[123]","identity":[1-9][0-9]*,"address":"10.244.1.1[123]","port":8080}' &&
   echo "$closed" | grep -q '"source":{"namespace":"default","pod":"client","identity":[1-9]' &&
   echo "$closed" | grep -q '"service":"shop/web"' &&
   echo "$closed" | grep -Eq '"packets":([5-9]|[1-9][0-9]+),"bytes":[1-9][0-9]{2,}'; then
	ok "closed record: client -> shop/web-N:8080, service shop/web, packets and bytes"
else
	echo "$closed" >"$TMP/out"
	not_ok "closed record: pods, service, counters"
fi
if grep '"type":"http-response"' "$TMP/flows" | grep "\"port\":${port:-0}}" |
   grep -q '"status":200'; then
	ok "the response's status line: 200"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "the response's status line"
fi
# IPv6, and a NodePort from outside (XDP, DSR): the world's identity
check "curl through the IPv6 ClusterIP" sh -c \
	"ip netns exec $CLIENT curl -sf -m 2 -o /dev/null 'http://[fd00:10:96::a]/'"
check "curl from outside to the NodePort" sh -c \
	"ip netns exec $P-ext curl -sf -m 2 -o /dev/null http://10.0.0.1:30080/"
settle
flows --json >"$TMP/flows"
if grep '"type":"closed"' "$TMP/flows" | grep '"ip_version":6' | grep '"service":"shop/web"' |
   grep -q '"destination":{"namespace":"shop","pod":"web-[123]","identity":[1-9][0-9]*,"address":"fd00:10:244:1::[bcd]"'; then
	ok "IPv6: closed record client -> shop/web-N at its IPv6 address"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "IPv6 closed record"
fi
if grep '"type":"new"' "$TMP/flows" | grep '"service":"blog/api"' | grep '"egress":false' |
   grep '"source":{"namespace":"","pod":"","identity":2,' | grep -q '"pod":"api-[123]"'; then
	ok "NodePort from outside: new record at XDP, the world (2) -> blog/api-N"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "NodePort from outside: new record at XDP"
fi
# A connection from pod to pod through no service: its new record, once,
# where it left the client (the policy's conntrack made it)
check "curl from the client straight to shop/web-1" sh -c \
	"ip netns exec $CLIENT curl -sf -m 2 -o /dev/null http://10.244.1.11:8080/"
settle
flows --json >"$TMP/flows"
direct=$(grep '"type":"new"' "$TMP/flows" | grep '"egress":true' |
	 grep '"source":{"namespace":"default","pod":"client"' |
	 grep '"destination":{"namespace":"shop","pod":"web-1","identity":[1-9][0-9]*,"address":"10.244.1.11","port":8080},"service":""')
if [ "$(echo "$direct" | grep -c .)" -eq 1 ]; then
	ok "pod to pod without a service: one new record, client -> shop/web-1:8080, no service"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "pod to pod without a service: one new record"
fi
check "text output: one line a record, service and verdict" sh -c \
	"$SLUICE flows --socket $SOCK | grep -E 'default/client:$port \\(ID:[0-9]+\\) -> shop/web-[123]:8080 .* svc shop/web TCP .*closed FORWARDED [0-9]+ pkts' "
check "--last 2 prints two records" sh -c "[ \$($SLUICE flows --socket $SOCK --last 2 | wc -l) -eq 2 ]"
check "--pod default/client keeps the client's records only" sh -c \
	"$SLUICE flows --socket $SOCK --json --pod default/client >$TMP/p && [ -s $TMP/p ] &&
	 ! grep -v '\"pod\":\"client\"' $TMP/p"
check "--since 1h keeps them, a future time none" sh -c \
	"[ \$($SLUICE flows --socket $SOCK --since 1h | wc -l) -gt 0 ] &&
	 [ \$($SLUICE flows --socket $SOCK --since 2099-01-01T00:00:00Z | wc -l) -eq 0 ]"

# Following: new records arrive while the reader waits
"$SLUICE" flows --socket "$SOCK" --follow --json >"$TMP/follow" 2>&1 &
follower=$!
sleep 0.3
curl_vip -o /dev/null
settle
kill "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
if grep -q '"type":"new"' "$TMP/follow" && grep -q '"type":"closed"' "$TMP/follow"; then
	ok "--follow streams the records of a new connection"
else
	cp "$TMP/follow" "$TMP/out"
	not_ok "--follow streams the records of a new connection"
fi

# A reader that stops reading is dropped, and the agent goes on
# following: status says so (the hang-up of the reader before is seen first)
following() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		"$SLUICE" k8s status --socket "$SOCK" | grep -q " $1 readers following" && return 0
		sleep 0.2
	done
	return 1
}
following 0
mkfifo "$TMP/stuck"
"$SLUICE" flows --socket "$SOCK" --follow >"$TMP/stuck" 2>/dev/null &
stuck=$!
exec 3<"$TMP/stuck"   # opened, never read: the reader blocks once the pipe is full
following 1
probe 10.96.0.10 80 --flows 300 >/dev/null 2>&1
settle
if "$SLUICE" k8s status --socket "$SOCK" | grep -Eq ' 0 readers following, [1-9][0-9]* dropped as too slow'; then
	ok "a reader that stopped reading was dropped, not waited for"
else
	"$SLUICE" k8s status --socket "$SOCK" >"$TMP/out"
	not_ok "a reader that stopped reading was dropped"
fi
exec 3<&-
kill "$stuck" 2>/dev/null
wait "$stuck" 2>/dev/null
check "the agent still answers after dropping it" sh -c "$SLUICE flows --socket $SOCK --last 1 | grep -q ."

# A service without backends: its packets are dropped as no-backend
check "apply a service no pod backs" apply "$MANIFESTS/flows-empty.yaml"
ip netns exec "$CLIENT" curl -sf -m 1 -o /dev/null http://10.96.0.90/ && not_ok "curl to no backend answered"
settle
if flows --json --verdict dropped | grep '"drop_reason":"no-backend"' |
   grep '"service":"shop/empty"' | grep -q '"pod":"client"'; then
	ok "no-backend drop record for shop/empty"
else
	flows --json >"$TMP/out"
	not_ok "no-backend drop record for shop/empty"
fi

# A deny policy: dropped records, and --verdict dropped selects them
check "apply a policy denying shop's ingress" apply "$MANIFESTS/flows-deny.yaml"
ip netns exec "$CLIENT" curl -sf -m 1 -o /dev/null http://10.96.0.10/ && not_ok "denied curl answered"
settle
flows --json --verdict dropped >"$TMP/flows"
if [ -s "$TMP/flows" ] && ! grep -qv '"verdict":"dropped"' "$TMP/flows" &&
   grep '"drop_reason":"policy-denied"' "$TMP/flows" | grep '"pod":"client"' |
   grep '"service":"shop/web"' | grep -q '"pod":"web-[123]"'; then
	ok "--verdict dropped: policy-denied client -> shop/web-N, service shop/web"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "--verdict dropped: policy-denied records"
fi
check "--verdict forwarded has no drop" sh -c \
	"! $SLUICE flows --socket $SOCK --json --verdict forwarded | grep -q '\"verdict\":\"dropped\"'"

# HTTP rules: GET allowed (request and response records), POST refused
check "apply the shop policies with HTTP rules" apply "$EXAMPLES/policies"
check "a GET through the service passes the HTTP rules" curl_vip -o /dev/null
ip netns exec "$CLIENT" curl -sf -m 1 -o /dev/null -X POST http://10.96.0.10/ && not_ok "POST answered"
settle
flows --json >"$TMP/flows"
if grep '"type":"http-request"' "$TMP/flows" | grep '"verdict":"forwarded"' |
   grep '"service":"shop/web"' | grep -q '"method":"GET","path":"/"'; then
	ok "http-request record: GET /, forwarded, service shop/web"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "http-request record for the GET"
fi
if grep '"type":"http-response"' "$TMP/flows" | grep -q '"method":"GET","path":"/","status":200,"latency_ns":[1-9]'; then
	ok "http-response record: GET / 200 with its latency"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "http-response record with latency"
fi
if grep '"type":"http-request"' "$TMP/flows" | grep '"drop_reason":"http-denied"' |
   grep -q '"method":"POST"'; then
	ok "http-request record: POST dropped as http-denied"
else
	cp "$TMP/flows" "$TMP/out"
	not_ok "http-request record for the refused POST"
fi

# A UDP flow without an answer ages out: the collector closes it
check "one UDP flow through the service" probe 10.96.0.10 53 --udp --flows 1
sleep 3
if flows --json | grep '"type":"closed"' | grep '"protocol":"UDP"' | grep -q '"service":"shop/web"'; then
	ok "an aged-out UDP flow gets its closed record from the collector"
else
	flows --json >"$TMP/out"
	not_ok "an aged-out UDP flow's closed record"
fi

# Lost events are counted and reported
check "status reports the flow events and the lost ones" sh -c \
	"$SLUICE k8s status --socket $SOCK | grep -Eq '^flow events: [1-9][0-9]* received, 0 lost' &&
	 $SLUICE k8s status --socket $SOCK --json |
	 grep -q '\"flow_events\":{\"received\":[1-9][0-9]*,\"lost\":0'"

# Usage and a missing agent
for bad in "--verdict maybe" "--last 0" "--since yesterday" "--pod /x" "stray"; do
	# shellcheck disable=SC2086 # the options
	"$SLUICE" flows --socket "$SOCK" $bad >/dev/null 2>"$TMP/out"
	if [ $? -eq 2 ] && [ -s "$TMP/out" ]; then ok "flows $bad: usage error"; else not_ok "flows $bad: usage error"; fi
done
"$SLUICE" flows --socket "$TMP/none.sock" >/dev/null 2>"$TMP/out"
if [ $? -eq 1 ] && grep -q 'no agent at' "$TMP/out"; then
	ok "no agent: a clear error, exit 1"
else
	not_ok "no agent: a clear error, exit 1"
fi
finish
