# shellcheck shell=sh
# Shared by the datapath tests: a topology of their own (the bundled
# manifests, under a prefix no one else uses), the agent, and the helpers.
# Source it with SLUICE, EXAMPLES and NAME set; then `setup AGENT_OPTIONS...`.
# Exits 77 (a ctest skip) with the reason when namespaces or bpf() are refused.
# K8S_TEST_PREFIX goes before every namespace's name: people testing on one
# machine at once keep apart by it.
P=${K8S_TEST_PREFIX:-}$NAME$$
TMP=$(mktemp -d)
SOCK=$TMP/agent.sock
CLIENT=$P-default-client
passed=0
failed=0

cleanup() {
	"$SLUICE" k8s topology down --prefix "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { passed=$((passed + 1)); echo "ok: $1"; }
not_ok() {
	failed=$((failed + 1))
	echo "FAIL: $1"
	[ -f "$TMP/out" ] && sed 's/^/  /' "$TMP/out"
}
# check WHAT COMMAND...: the command succeeds (its output in $TMP/out)
check() {
	what=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then ok "$what"; else not_ok "$what"; fi
}
# usage_error WHAT PATTERN COMMAND...: the command is refused as wrong usage
# (exit 2) with a message holding PATTERN
usage_error() {
	what=$1 pattern=$2
	shift 2
	"$@" >"$TMP/out" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q -- "$pattern" "$TMP/out"; then
		ok "$what"
	else
		not_ok "$what (exit $rc)"
	fi
}
probe() { "$SLUICE" k8s probe --netns "$CLIENT" --timeout 1000 "$@"; }
# backends FILE: the backend names a probe printed, sorted, one line
backends() { awk '$3 == "flows" {print $1}' "$1" | sort | tr '\n' ' '; }
# flows FILE: "sport backend" per flow of a probe -v
flows() { awk '$1 == "flow" {print $4, $6}' "$1"; }
apply() { "$SLUICE" k8s apply -f "$1" --socket "$SOCK"; }
status() { "$SLUICE" k8s status --socket "$SOCK" "$@"; }
finish() {
	echo "$NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# setup AGENT_OPTIONS...: the topology, the agent, the bundled manifests applied
setup() {
	if ! ip netns add "$P-probe" 2>"$TMP/err"; then
		echo "skip: cannot create network namespaces: $(cat "$TMP/err")"
		exit 77
	fi
	ip netns del "$P-probe"
	if ! "$SLUICE" k8s topology up -f "$EXAMPLES" --prefix "$P" >"$TMP/out" 2>&1; then
		cat "$TMP/out"
		exit 1
	fi
	if ! "$SLUICE" k8s agent --netns "$P-node" --socket "$SOCK" --daemon "$@" >"$TMP/out" 2>&1; then
		if grep -Eq 'Operation not permitted|refused' "$TMP/out"; then
			echo "skip: the kernel refused to load the datapath: $(cat "$TMP/out")"
			exit 77
		fi
		cat "$TMP/out"
		exit 1
	fi
	check "apply the bundled manifests" apply "$EXAMPLES"
	# without services every flow would wait for its timeout: stop here
	[ "$failed" -eq 0 ] || finish
}
