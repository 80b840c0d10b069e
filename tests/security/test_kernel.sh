#!/bin/sh
# `sluice security run`: the policy in the kernel.  Tracepoints see the
# exec of the forbidden binary (killed at exec), the write to the protected
# file (killed: without BPF LSM the open cannot be failed, and no write
# follows it) and the audited read (logged); cgroup/connect4 on a cgroup
# made for the test fails the denied connect with EPERM.  Other activity is
# untouched, each event has its fields, `sluice events` sees the same
# stream, and a flood of matching opens is either printed or counted as
# dropped, never lost silently.
# usage: test_kernel.sh SLUICE  (root; exit 77 where bpf() or cgroup v2 is missing)
set -u
sluice=$1
. "$(dirname "$0")/lib.sh"
cgroup=
runner=
cleanup() {
	[ -n "$runner" ] && kill -INT "$runner" 2> /dev/null && wait "$runner"
	[ -n "$cgroup" ] && rmdir "$cgroup" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root" ] || { echo "SKIP: no cgroup v2 hierarchy"; exit 77; }
setup_files
cd "$tmp" || exit 1
cgroup=$root/sluice-security-test-$$
mkdir "$cgroup" || { echo "SKIP: cannot create a cgroup under $root"; exit 77; }
flood=2000
cat >> policy.yaml <<YAML
    - name: flood
      file:
        path: [$tmp/flood]
      action: log
YAML
touch flood

"$sluice" --json security run -f policy.yaml --cgroup "$cgroup" --duration 60 \
	--socket "$tmp/events.sock" > events.json 2> run.err &
runner=$!
for _ in $(seq 100); do
	grep -q "watching" run.err && break
	kill -0 "$runner" 2> /dev/null || break
	sleep 0.1
done
if ! grep -q "watching" run.err; then
	if grep -Eq "refused bpf|Operation not permitted|tracefs" run.err; then
		echo "SKIP: $(cat run.err)"
		exit 77
	fi
	fail "security run did not start:"
	cat run.err >&2
	exit 1
fi
expect_line run.err "file deny needs BPF LSM; this kernel refuses it|BPF LSM is available" "LSM probe"
# a second reader of the same stream, until the run ends
"$sluice" --json events --socket "$tmp/events.sock" > reader.json 2> reader.err &
reader=$!
for _ in $(seq 50); do
	grep -q "reading" reader.err && break
	sleep 0.1
done

# in the test cgroup, so that its connects pass the cgroup programs
in_cgroup() {
	sh -c "echo \$\$ > $cgroup/cgroup.procs && exec $1"
}

in_cgroup "sh -c 'echo changed > $tmp/secret; echo survived'" > write.out 2>&1
no_line write.out survived "the writer of the protected file"
[ "$(cat secret)" != changed ] || fail "the protected file was written"
# the killed writer's O_TRUNC happened before it died: reading is what is checked
in_cgroup "cat $tmp/secret" > read.out 2>&1 || fail "reading the protected file: $(cat read.out)"
in_cgroup "cat $tmp/audited" > audit.out 2>&1
expect_line audit.out "^audited$" "reading the audited file"
in_cgroup "sh -c '$tmp/forbidden one two; echo forbidden=\$?; /bin/true; echo true=\$?'" > exec.out 2>&1
expect_line exec.out "^forbidden=137$" "the forbidden binary killed"
expect_line exec.out "^true=0$" "an allowed exec"
in_cgroup "bash -c 'exec 3<>/dev/tcp/127.0.0.1/$deny_port'" > deny.out 2>&1
expect_line deny.out "Operation not permitted" "the denied connect"
in_cgroup "bash -c 'exec 3<>/dev/tcp/::1/$deny_port'" > deny6.out 2>&1
expect_line deny6.out "Operation not permitted" "the denied IPv6 connect"
in_cgroup "bash -c 'exec 3<>/dev/udp/127.0.0.1/$deny_port && echo udp-connected'" > udp.out 2>&1
expect_line udp.out "^udp-connected$" "a UDP connect to the TCP-only denied port"
in_cgroup "perl $tmp/send_udp.pl $udp_port" > udp-send.out 2>&1
expect_line udp-send.out "send: Operation not permitted" "a datagram to the denied UDP port"
in_cgroup "perl $tmp/send_udp.pl $open_port" > udp-open.out 2>&1
expect_line udp-open.out "^sent$" "a datagram to another port"
in_cgroup "bash -c 'exec 3<>/dev/tcp/127.0.0.1/$open_port'" > open.out 2>&1
expect_line open.out "Connection refused" "an allowed connect"
in_cgroup "bash -c 'exec 3<>/dev/tcp/127.0.0.1/$kill_port; echo survived'" > kill.out 2>&1
no_line kill.out survived "the kill-port connect"
in_cgroup "sh -c 'i=0; while [ \$i -lt $flood ]; do : < $tmp/flood; i=\$((i + 1)); done'"

kill -INT "$runner"
wait "$runner"
rc=$?
runner=
[ "$rc" -eq 0 ] || { fail "security run: exit $rc"; cat run.err >&2; }
wait "$reader"
rc=$?
[ "$rc" -eq 0 ] || { fail "sluice events: exit $rc"; cat reader.err >&2; }
expect_line reader.json '"kind":"exec","rule":"no-forbidden","action":"kill","taken":"killed",.*"args":"one two"' "exec event through sluice events"
expect_line reader.json '"kind":"connect","rule":"no-deny-port",.*"destination":"127.0.0.1:'"$deny_port"'/tcp"' "connect event through sluice events"

grep -v '"rule":"flood"' events.json > matched.json
expect_line matched.json '"kind":"file","rule":"protect-secret","action":"deny","taken":"killed","pid":[0-9]+,"tid":[0-9]+,"ppid":[0-9]+,"uid":0,"comm":"sh","binary":"[^"]*","path":"'"$tmp"'/secret","write":true' "write event"
expect_line matched.json '"kind":"file","rule":"audit-read","action":"log","taken":"logged",.*"comm":"cat","binary":"[^"]*cat","path":"'"$tmp"'/audited","write":false' "audit event"
expect_line matched.json '"kind":"exec","rule":"no-forbidden","action":"kill","taken":"killed",.*"comm":"forbidden","binary":"'"$tmp"'/forbidden","exec":"'"$tmp"'/forbidden","parent":"[^"]*sh","args":"one two"' "exec event"
expect_line matched.json '"kind":"connect","rule":"no-deny-port","action":"deny","taken":"denied",.*"comm":"bash",.*"destination":"127.0.0.1:'"$deny_port"'/tcp"' "connect event"
expect_line matched.json '"kind":"connect","rule":"no-deny-port","action":"deny","taken":"denied",.*"destination":"\[::1\]:'"$deny_port"'/tcp"' "IPv6 connect event"
expect_line matched.json '"kind":"connect","rule":"no-kill-port","action":"kill","taken":"denied\+killed",.*"destination":"127.0.0.1:'"$kill_port"'/tcp"' "kill connect event"
expect_line matched.json '"kind":"connect","rule":"no-udp-send","action":"deny","taken":"denied",.*"comm":"perl",.*"destination":"127.0.0.1:'"$udp_port"'/udp"' "UDP send event"
no_line matched.json "\"destination\":\"127.0.0.1:$open_port/" "an allowed connect matched"
no_line matched.json "\"destination\":\"127.0.0.1:$deny_port/udp" "a UDP connect matched a TCP rule"
no_line matched.json '"rule":"protect-secret".*"write":false' "a read matched a write rule"

printed=$(grep -c '"rule":"flood"' events.json)
summary=$(grep '"summary"' events.json)
events=$(echo "$summary" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
dropped=$(echo "$summary" | sed -n 's/.*"dropped":\([0-9]*\).*/\1/p')
others=$(grep -c '"kind"' matched.json)
[ -n "$events" ] || fail "no summary line"
[ "$((printed + others))" -eq "${events:-0}" ] ||
	fail "printed $printed flood + $others other events, the kernel counted ${events:-?}"
[ "$((printed + ${dropped:-0}))" -eq "$flood" ] ||
	fail "$flood matching opens: $printed printed + ${dropped:-?} dropped"

[ "$failures" -eq 0 ] || exit 1
echo "security kernel: all checks passed ($printed flood events printed, ${dropped:-0} dropped)"
