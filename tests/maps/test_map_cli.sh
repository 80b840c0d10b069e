#!/bin/sh
# `sluice map` end to end, on the maps of a live process (map_holder) and on
# pinned ones: list, dump, lookup, update, delete, create, remove, --json,
# exit codes (0 ok, 1 failure, 2 usage) and one-line errors; then a holder
# killed with its maps open, whose maps `map list` must clean up.
# usage: test_map_cli.sh SLUICE MAP_HOLDER
set -u
SLUICE=$1
HOLDER=$2
TMP=$(mktemp -d)
holder_pid=
cleanup() {
	[ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
	[ -n "${pinned:-}" ] && "$SLUICE" map remove id "$pinned" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0

# t EXIT 'expected in the output' sluice-arguments...
t() {
	want_code=$1 want_text=$2
	shift 2
	"$SLUICE" "$@" >"$TMP/out" 2>&1
	code=$?
	if [ "$code" = "$want_code" ] && { [ -z "$want_text" ] || grep -qF -- "$want_text" "$TMP/out"; }; then
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	echo "FAIL: sluice $* -> exit $code (want $want_code), wanted '$want_text' in:"
	sed 's/^/    /' "$TMP/out"
}

# A holder with live maps; its stdin is a fifo we keep open until the end.
start_holder() {
	rm -f "$TMP/fifo" "$TMP/ids"
	mkfifo "$TMP/fifo"
	"$HOLDER" <"$TMP/fifo" >"$TMP/ids" &
	holder_pid=$!
	exec 3>"$TMP/fifo"
	for _ in $(seq 100); do
		grep -q ready "$TMP/ids" && return
		sleep 0.05
	done
	echo "FAIL: map_holder did not start"
	exit 1
}
id_of() { sed -n "s/^$1 //p" "$TMP/ids"; }

start_holder
hash=$(id_of hash) pcpu=$(id_of pcpu) queue=$(id_of queue) inner=$(id_of inner)
outer=$(id_of outer)
hashname=hash$((holder_pid % 100000))

t 0 "$hash: hash  name $hashname  flags 0x0  pid $holder_pid" map list
t 0 "\"id\":$hash,\"type\":\"hash\",\"name\":\"$hashname\"" map list --json
t 0 "key: 01 00 00 00  value: 88 77 66 55 44 33 22 11" map dump id "$hash"
t 0 "Found 1 element" map dump name "$hashname"
t 0 "value: 88 77 66 55 44 33 22 11" map lookup "$hashname" key 1 0 0 0
t 0 '"value":["0x88","0x77"' -j map lookup id "$hash" key hex 01000000

# another process writes into the holder's map, through the CLI
t 0 "" map update id "$hash" key hex 02 00 00 00 value hex 0102030405060708
t 0 '"result":"updated"' --json map update id "$hash" key 2 0 0 0 value 9 9 9 9 9 9 9 9 exist
t 1 "the key exists (BPF_NOEXIST)" map update id "$hash" key 2 0 0 0 value 0 0 0 0 0 0 0 0 noexist
t 1 "no such key (BPF_EXIST)" map update id "$hash" key 3 0 0 0 value 0 0 0 0 0 0 0 0 exist
t 0 "Found 2 elements" map dump id "$hash"
t 0 "" map delete id "$hash" key 2 0 0 0
t 1 "no such key" map delete id "$hash" key 2 0 0 0
t 1 "no such key" map lookup id "$hash" key 2 0 0 0

# per-CPU values: one for all CPUs, shown per CPU
t 0 "" map update id "$pcpu" key 5 0 0 0 value hex aabbccdd
t 0 "value (CPU 00): aa bb cc dd" map lookup id "$pcpu" key 5 0 0 0
t 0 '"values":[{"cpu":0,"value":["0xaa"' --json map dump id "$pcpu"

# a queue: update pushes, lookup peeks; it has no keys
t 0 "" map update id "$queue" value 1 2
t 0 "value: 01 02" map lookup id "$queue"
t 1 "no keys to walk" map dump id "$queue"
t 1 "it has no keys" map update id "$queue" key 1 value 1 2
t 0 "" map update id "$queue" value 3 4
t 0 "" map update id "$queue" value 5 6
t 0 "" map update id "$queue" value 7 8
t 1 "the map is full (max_entries 4)" map update id "$queue" value 9 9
t 0 "" map update id "$queue" value 9 9 exist
t 0 "value: 03 04" map lookup id "$queue"

# a map of maps names its inner maps by id
t 0 "" map update id "$outer" key 0 0 0 0 value id "$inner"
t 0 "value: $(printf '%02x' $((inner & 255)))" map lookup id "$outer" key 0 0 0 0
t 1 "does not match the inner map template" map update id "$outer" key 1 0 0 0 value id "$hash"
t 1 "no map with id 4294967295" map update id "$outer" key 1 0 0 0 value id 4294967295

# bad input: exit 1 for what the map refuses, 2 for what the command line gets wrong
t 1 "keys are 4 bytes, not 3" map lookup id "$hash" key 1 0 0
t 1 "values are 8 bytes, not 1" map update id "$hash" key 1 0 0 0 value 1
t 1 "no map named 'nosuch'" map dump nosuch
t 1 '"error":"no map named' --json map lookup nosuch key 1 0 0 0
t 1 "no map with id 4294967295" map dump id 4294967295
t 2 "is not a byte" map lookup id "$hash" key 1 0 0 256
t 2 "bad hex byte" map lookup id "$hash" key hex 0g 00 00 00
t 2 "'sometimes' is not a byte" map update id "$hash" key 1 0 0 0 value 1 1 1 1 1 1 1 1 sometimes
t 2 "expected key BYTES" map lookup id "$hash"
t 2 "expected value BYTES" map update id "$hash" key 1 0 0 0
t 2 "unknown map command 'frob'" map frob
t 2 "id takes a number" map dump id x
t 2 "usage: sluice map" map
t 1 "only pinned maps can be removed" map remove id "$hash"

# pinned maps outlive the command that makes them
t 0 "created pinned map" map create "pin$$" type lru_hash key 8 value 4 entries 32
pinned=$("$SLUICE" map list --json | grep -o "\"id\":[0-9]*,\"type\":\"lru_hash\",\"name\":\"pin$$\"" |
	sed 's/"id":\([0-9]*\),.*/\1/')
t 0 "$pinned: lru_hash  name pin$$  flags 0x0  pinned" map list
t 0 "" map update "pin$$" key 1 2 3 4 5 6 7 8 value 4 3 2 1
t 0 "key: 01 02 03 04 05 06 07 08  value: 04 03 02 01" map dump "pin$$"
t 1 "LRU maps are always preallocated" map create "bad$$" type lru_hash key 8 value 4 entries 32 flags 1
t 1 "map name 'a-b'" map create a-b type hash key 4 value 4 entries 1
t 2 "unknown map type 'hashish'" map create "x$$" type hashish key 4 value 4 entries 1
t 0 '"result":"removed"' --json map remove id "$pinned"
t 1 "no map named 'pin$$'" map dump "pin$$"
pinned=

# the holder closes its maps on the way out: they are gone
exec 3>&-
wait "$holder_pid"
holder_pid=
t 1 "no map with id $hash" map dump id "$hash"

# a holder that dies with its maps open leaves files: list removes them
start_holder
dead=$holder_pid
hash=$(id_of hash)
kill -9 "$dead"
wait "$dead" 2>/dev/null
exec 3>&-
holder_pid=
ls /dev/shm/sluice."$dead".* >/dev/null 2>&1 || { echo "FAIL: no files left by the killed holder"; failed=$((failed + 1)); }
"$SLUICE" map list >"$TMP/list" 2>&1
if grep -q "pid $dead" "$TMP/list" || ls /dev/shm/sluice."$dead".* >/dev/null 2>&1; then
	echo "FAIL: the maps of the killed holder $dead are still there"
	failed=$((failed + 1))
else
	passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
