#!/bin/sh
# Every program of real objects (the corpus scripts/corpus.sh gathers, the
# examples) judged by the running kernel (`sluice load`, the whole object
# loaded as in use) and by Sluice's verifier (`sluice verify`): a program
# the kernel accepts must be accepted (the issue's goal), and one it
# rejects must be rejected (or shown safe).  Prints the agreement and each
# difference with Sluice's reason; exits 77 when the kernel refuses bpf().
# usage: test_corpus_verdicts.sh SLUICE DIR...
set -u
SLUICE=$1
shift
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# name<TAB>accepted, one line per program, from `sluice verify --json`
sluice_verdicts() {
	grep -o '"name":"[^"]*","section":"[^"]*","accepted":[a-z]*' |
		sed 's/^"name":"\([^"]*\)","section":"[^"]*","accepted":\([a-z]*\)$/\1	\2/' | sort
}

# The same from `sluice load --json`, leaving out the programs the verifier
# never saw (processed_insns -1): lockdown refuses fentry, libbpf finds no
# attach target...; the kernel did not judge those.
kernel_verdicts() {
	grep -o '"name":"[^"]*","section":"[^"]*","accepted":[a-z]*,"processed_insns":-\{0,1\}[0-9]*' |
		grep -v '"accepted":false,"processed_insns":-1$' |
		sed 's/^"name":"\([^"]*\)","section":"[^"]*","accepted":\([a-z]*\),.*$/\1	\2/' | sort
}

probe=$("$SLUICE" --json load /dev/null 2>&1)
case $probe in
*"refused bpf()"*)
	echo "SKIP: $probe"
	exit 77
	;;
esac

programs=0 agree=0 kernel_only=0 sluice_only=0
for dir in "$@"; do
	if ! ls "$dir"/*.o >/dev/null 2>&1; then
		echo "no objects in $dir (build the bpf_examples and corpus targets)"
		exit 1
	fi
	for obj in "$dir"/*.o; do
		"$SLUICE" --json load "$obj" 2>/dev/null | kernel_verdicts >"$TMP/kernel"
		"$SLUICE" --json verify "$obj" 2>/dev/null | sluice_verdicts >"$TMP/sluice"
		join -t '	' "$TMP/kernel" "$TMP/sluice" >"$TMP/both"
		while IFS='	' read -r name kernel sluice; do
			programs=$((programs + 1))
			if [ "$kernel" = "$sluice" ]; then
				agree=$((agree + 1))
				continue
			fi
			reason=$("$SLUICE" verify "$obj" --prog "$name" 2>&1 | tail -n 1)
			if [ "$kernel" = true ]; then
				kernel_only=$((kernel_only + 1))
				echo "kernel-only accept: $(basename "$obj"):$name: $reason"
			else
				sluice_only=$((sluice_only + 1))
				echo "sluice-only accept: $(basename "$obj"):$name"
			fi
		done <"$TMP/both"
	done
done

if [ "$programs" -eq 0 ]; then
	echo "no program both judged in $*"
	exit 1
fi
echo "$programs programs, $agree agree ($((100 * agree / programs))%)," \
	"$kernel_only kernel-only accept, $sluice_only sluice-only accept"
[ "$kernel_only" -eq 0 ] && [ "$sluice_only" -eq 0 ]
