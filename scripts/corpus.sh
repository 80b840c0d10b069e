#!/bin/sh
# scripts/corpus.sh OUTDIR [EXTRACT_BPF]
#
# Gathers real BPF objects that no one here wrote, to test the loader and the
# kernel backend against: the .o files Debian's libxdp1 and xdp-tools ship,
# and the objects libbpf skeletons embed in the libbpf-tools and xdp-tools
# binaries (OUTDIR/<binary>.<n>.o, n counting the objects in that binary).
# Installs those packages when they are missing (through deps.sh).  OUTDIR
# is emptied of .o files first; the last line says how many objects it holds.
#
# EXTRACT_BPF is the helper built from scripts/extract_bpf.c (the build
# passes it); without it the script compiles the helper itself with $CC.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 OUTDIR [EXTRACT_BPF]" >&2
	exit 2
fi
outdir=$1
here=$(cd "$(dirname "$0")" && pwd)
PACKAGES="libbpf-tools xdp-tools libxdp1"

# They are among the project's packages: deps.sh installs what is missing.
"$here/deps.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 2 ]; then
	extract=$2
else
	extract=$work/extract_bpf
	${CC:-cc} -O2 -o "$extract" "$here/extract_bpf.c"
fi
mkdir -p "$outdir" "$work/objs"
rm -f "$outdir"/*.o
: >"$work/sums"

# Keep the first copy of each object: xdp-tools link libxdp statically, so
# each of its binaries embeds the dispatcher and AF_XDP programs that
# libxdp1 also ships as files.
keep() { # file: move it into OUTDIR unless an identical object is there
	sum=$(cksum <"$1")
	if grep -qx "$sum" "$work/sums"; then
		return 1
	fi
	echo "$sum" >>"$work/sums"
	cp "$1" "$outdir/"
}

shipped=0
for f in $(dpkg -L $PACKAGES | grep '/bpf/[^/]*\.o$'); do
	keep "$f" && shipped=$((shipped + 1))
done

# Symlinks (ext4dist -> fsdist) would only repeat their target's objects.
for bin in $(dpkg -L $PACKAGES | grep '^/usr/sbin/'); do
	if [ -L "$bin" ] || [ ! -f "$bin" ]; then
		continue
	fi
	"$extract" "$bin" "$work/objs" "$(basename "$bin")" >/dev/null
done
embedded=0
extracted=0
for f in "$work"/objs/*.o; do
	[ -e "$f" ] || continue
	embedded=$((embedded + 1))
	keep "$f" && extracted=$((extracted + 1))
done

echo "corpus: $((shipped + extracted)) objects in $outdir ($shipped shipped as .o," \
     "$extracted extracted from binaries, $((embedded - extracted)) more embedded copies skipped)"
