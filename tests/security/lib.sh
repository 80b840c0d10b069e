# Shared by the security tests: a temporary directory with a protected
# file, an audited one and a forbidden binary, a policy about them, and
# checks that print what failed.
# shellcheck shell=sh

tmp=$(mktemp -d /tmp/sluice-sec.XXXXXX)
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect_line FILE PATTERN WHAT: some line of FILE matches the extended regex
expect_line() {
	grep -Eq -- "$2" "$1" || { fail "$3: no line matching '$2' in:"; cat "$1" >&2; }
}

# no_line FILE PATTERN WHAT
no_line() {
	! grep -Eq -- "$2" "$1" || { fail "$3: unexpected line matching '$2':"; cat "$1" >&2; }
}

# A loopback port for this run, away from the ephemeral range and from
# well-known services: nothing is expected to listen there.
test_port() {
	port=$(( (($$ + $1) % 20000) + 30000 ))
	echo "$port"
}

setup_files() {
	cp /bin/true "$tmp/forbidden"
	echo original > "$tmp/secret"
	echo audited > "$tmp/audited"
	deny_port=$(test_port 1)
	kill_port=$(test_port 2)
	open_port=$(test_port 3)
	udp_port=$(test_port 4)
	# a datagram to 127.0.0.1:PORT by sendto() without connect(), with
	# Debian's essential perl; prints "sent" or the error
	cat > "$tmp/send_udp.pl" <<'PERL'
use Socket;
socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!\n";
send($s, "x", 0, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die "send: $!\n";
print "sent\n";
PERL
	cat > "$tmp/policy.yaml" <<YAML
apiVersion: sluice.io/v1alpha1
kind: SecurityPolicy
metadata:
  name: test
spec:
  rules:
    - name: protect-secret
      file:
        pathPrefix: [$tmp/secret]
        operations: [write]
      action: deny
    - name: audit-read
      file:
        path: [$tmp/audited]
      action: log
    - name: no-forbidden
      exec:
        binary: [$tmp/forbidden]
      action: kill
    - name: no-deny-port
      connect:
        cidr: [127.0.0.1/32, "::1/128"]
        ports: [$deny_port]
        protocol: [tcp]
      action: deny
    - name: no-udp-send
      connect:
        cidr: [127.0.0.1/32]
        ports: [$udp_port]
        protocol: [udp]
      action: deny
    - name: no-kill-port
      connect:
        ports: [$kill_port]
      action: kill
YAML
}

