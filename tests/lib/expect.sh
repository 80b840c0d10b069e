# What the command-line test scripts share: `expect` runs a command and
# checks its exit status and output, `expect_summary` prints the closing
# line ctest shows and ends the script with its verdict.  Sourced (sh and
# bash alike) after `set -u`.
pass=0
fail=0

# expect CODE 'text that must appear in stdout+stderr' command...
expect() {
	code=$1 want=$2
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" -ne "$code" ]; then
		echo "FAIL: $*: exit $got, expected $code; output: $out"
		fail=$((fail + 1))
	elif [ -n "$want" ] && ! printf "%s" "$out" | grep -qF -- "$want"; then
		echo "FAIL: $*: output lacks '$want'; output: $out"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

expect_summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
