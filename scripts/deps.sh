#!/bin/sh
# Installs the Debian 12 packages Sluice needs, and only those missing:
# one `apt-get update`, then one `apt-get install -y`.  Runs as root, or
# through sudo when it is there.
set -eu

PACKAGES="cmake make gcc clang llvm libclang-rt-14-dev pkg-config libcmocka-dev"
# The kernel backend (libbpf and what it links), the veth and tc set-up of
# its tests, and the packages whose BPF objects make up the test corpus
# (scripts/corpus.sh).
PACKAGES="$PACKAGES libbpf-dev libelf-dev zlib1g-dev iproute2 libbpf-tools xdp-tools libxdp1"
# `sluice disasm --jited` disassembles the JIT's x86 code with capstone.
PACKAGES="$PACKAGES libcapstone-dev"
# `sluice run --pcap` reads and writes packet captures through libpcap.
PACKAGES="$PACKAGES libpcap-dev"
# Kubernetes service load balancing: manifests through libyaml; curl for
# its tests and demo.
PACKAGES="$PACKAGES libyaml-dev curl"
# The NetworkPolicy truth tables check ICMP with ping.
PACKAGES="$PACKAGES iputils-ping"
# `sluice profile`'s tests check its flame graphs with xmllint.
PACKAGES="$PACKAGES libxml2-utils"
# `sluice k8s map` renders the service map with Graphviz's dot (its tests
# check the SVG with xmllint too).
PACKAGES="$PACKAGES graphviz"
# bench/k8s compares with kube-proxy's iptables and nftables modes, measures
# throughput with iperf3 and draws its chart with gnuplot.
if [ "${1:-}" = "--bench-k8s" ]; then
	PACKAGES="$PACKAGES iptables nftables iperf3 gnuplot-nox"
fi
# The benchmarks compare against DPDK's BPF engine.
if [ "${1:-}" = "--bench" ]; then
	PACKAGES="$PACKAGES libdpdk-dev valgrind"
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
