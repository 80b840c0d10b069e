#!/bin/sh
# `sluice exec`: real processes under the seccomp supervisor and the eBPF
# matcher in the user-space runtime.  A write to the protected file fails
# with EACCES and leaves it unchanged, the forbidden binary's exec kills its
# caller, connects to the denied port fail with EPERM and to the kill port
# kill; reads, other execs and other connects go on untouched; every match
# is reported with its rule and fields; a bad policy is refused by name.
# usage: test_exec.sh SLUICE
set -u
sluice=$1
. "$(dirname "$0")/lib.sh"
trap 'rm -rf "$tmp"' EXIT
setup_files
cd "$tmp" || exit 1

# seccomp user notification (Linux 5.0) may be refused inside some sandboxes
if ! "$sluice" exec --policy policy.yaml -- true 2> probe.err; then
	if grep -q "seccomp" probe.err; then
		echo "SKIP: $(cat probe.err)"
		exit 77
	fi
fi

"$sluice" exec --policy policy.yaml -- sh -c "echo changed > $tmp/secret" 2> write.err
rc=$?
[ "$rc" -ne 0 ] || fail "the write to the protected file succeeded"
[ "$(cat secret)" = original ] || fail "the protected file changed: $(cat secret)"
expect_line write.err "file +denied +rule=protect-secret action=deny pid=[0-9]+ ppid=[0-9]+ uid=[0-9]+ comm=sh binary=/.* path=$tmp/secret write=yes" "write event"
expect_line write.err "Permission denied" "the write's error"

# the JIT runs the same matcher
"$sluice" exec --policy policy.yaml --engine jit -- sh -c "echo changed > $tmp/secret" 2> jit.err
[ "$(cat secret)" = original ] || fail "the protected file changed under the JIT: $(cat secret)"
expect_line jit.err "file +denied +rule=protect-secret" "write event under the JIT"

out=$("$sluice" exec --policy policy.yaml -- cat "$tmp/secret" 2> read.err)
[ "$out" = original ] || fail "reading the protected file: '$out'"
no_line read.err "rule=" "a read matched a write rule"

out=$("$sluice" exec --policy policy.yaml -- cat "$tmp/audited" 2> audit.err)
[ "$out" = audited ] || fail "reading the audited file: '$out'"
expect_line audit.err "file +logged +rule=audit-read action=log .*comm=cat binary=/.*cat path=$tmp/audited write=no" "audit event"

"$sluice" exec --policy policy.yaml -- sh -c "./forbidden one two; echo forbidden=\$?; /bin/true; echo true=\$?" > exec.out 2> exec.err
expect_line exec.out "^forbidden=137$" "the forbidden exec's caller killed"
expect_line exec.out "^true=0$" "an allowed exec"
expect_line exec.err "exec +killed +rule=no-forbidden action=kill .*exec=$tmp/forbidden parent=/.* args=\"one two\"" "exec event"

"$sluice" exec --policy policy.yaml -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$deny_port" 2> deny.err
expect_line deny.err "Operation not permitted" "the denied connect's error"
expect_line deny.err "connect +denied +rule=no-deny-port action=deny .*destination=127.0.0.1:$deny_port/tcp" "connect event"

"$sluice" exec --policy policy.yaml -- bash -c "exec 3<>/dev/tcp/::1/$deny_port" 2> deny6.err
expect_line deny6.err "connect +denied +rule=no-deny-port action=deny .*destination=\[::1\]:$deny_port/tcp" "IPv6 connect event"

out=$("$sluice" exec --policy policy.yaml -- bash -c "exec 3<>/dev/udp/127.0.0.1/$deny_port && echo udp-connected" 2> udp.err)
[ "$out" = udp-connected ] || fail "a UDP connect to the TCP-only denied port: '$out'"
no_line udp.err "rule=" "a UDP connect matched a TCP rule"

"$sluice" exec --policy policy.yaml -- perl send_udp.pl "$udp_port" > udp-send.out 2> udp-send.err
expect_line udp-send.err "send: Operation not permitted" "a datagram to the denied UDP port"
expect_line udp-send.err "connect +denied +rule=no-udp-send action=deny .*destination=127.0.0.1:$udp_port/udp" "UDP send event"
out=$("$sluice" exec --policy policy.yaml -- perl send_udp.pl "$open_port" 2> udp-open.err)
[ "$out" = sent ] || fail "a datagram to another port: '$out' $(cat udp-open.err)"

"$sluice" exec --policy policy.yaml -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$open_port" 2> open.err
expect_line open.err "Connection refused" "an allowed connect reaches the stack"
no_line open.err "rule=" "an allowed connect matched"

"$sluice" exec --policy policy.yaml -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$kill_port; echo survived" > kill.out 2> kill.err
rc=$?
[ "$rc" -eq 137 ] || fail "the kill-port connect: exit $rc, expected 137"
no_line kill.out survived "the kill-port connect"
expect_line kill.err "connect +killed +rule=no-kill-port action=kill" "kill event"

"$sluice" --json exec --policy policy.yaml -- sh -c "echo changed >> $tmp/secret" 2> json.err
expect_line json.err '^\{"time_ns":[0-9]+,"kind":"file","rule":"protect-secret","action":"deny","taken":"denied","pid":[0-9]+,"tid":[0-9]+,"ppid":[0-9]+,"uid":[0-9]+,"comm":"sh","binary":"[^"]+","path":"'"$tmp"'/secret","write":true\}$' "JSON event"

printf 'apiVersion: sluice.io/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: x}\nspec:\n  rules:\n  - {name: r, file: {path: [relative]}, action: deny}\n' > bad.yaml
"$sluice" exec --policy bad.yaml -- true 2> bad.err
rc=$?
[ "$rc" -eq 1 ] || fail "a bad policy: exit $rc, expected 1"
expect_line bad.err "bad.yaml:6: rule 'r': file.path\[0\]: 'relative' must be an absolute path" "bad policy message"

"$sluice" security run -f bad.yaml 2> bad-run.err
rc=$?
[ "$rc" -eq 1 ] || fail "security run with a bad policy: exit $rc, expected 1"
expect_line bad-run.err "bad.yaml:6: rule 'r': file.path\[0\]" "security run's bad policy message"

[ "$failures" -eq 0 ] || exit 1
echo "security exec: all checks passed"
