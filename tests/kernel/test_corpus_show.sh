#!/bin/sh
# `sluice obj show` on every object of the corpus and of the examples: all
# must open (warnings are fine), and the JSON must name every program.
# usage: test_corpus_show.sh SLUICE DIR...
set -u
SLUICE=$1
shift
opened=0
failed=0
for dir in "$@"; do
	for obj in "$dir"/*.o; do
		[ -e "$obj" ] || continue
		if out=$("$SLUICE" obj show --json "$obj" 2>&1) &&
		   printf '%s' "$out" | grep -q '"programs":\['; then
			opened=$((opened + 1))
		else
			failed=$((failed + 1))
			echo "FAIL $obj: $(printf '%s' "$out" | head -3)"
		fi
	done
done
echo "obj show: $opened objects opened, $failed failed"
echo "$opened passed, $failed failed"
[ "$opened" -gt 0 ] && [ "$failed" -eq 0 ]
