# The expected reach grids of a case: reads the pods (one "ns/name" a line,
# in reach's order) from the file PODS, then the case's .expect, whose
# lines are "PROTO/PORT FROM TO X|." applied in order over a grid that
# starts all X (every pod reaches every pod); PROTO is tcp, udp or *, PORT
# a number or *, FROM and TO patterns of "namespace/pod" with * for any
# part.  A pod always reaches itself: its packets never leave it.
# Prints the grids of GRIDS ("TCP/80 TCP/81 ..."), in reach's format.
function glob(pat, s) {
	gsub(/\*/, ".*", pat)
	return s ~ ("^" pat "$")
}
BEGIN {
	r = 0
	while ((getline line < PODS) > 0)
		pod[n++] = line
}
/^[ \t]*(#|$)/ { next }
{ rule[r, "what"] = $1; rule[r, "from"] = $2; rule[r, "to"] = $3; rule[r++, "v"] = $4 }
END {
	split(GRIDS, grids, " ")
	for (g = 1; g in grids; g++) {
		split(tolower(grids[g]), pp, "/")
		print grids[g]
		for (s = 0; s < n; s++) {
			row = ""
			for (d = 0; d < n; d++) {
				v = "X"
				for (i = 0; i < r; i++) {
					split(rule[i, "what"], w, "/")
					if ((w[1] == "*" || w[1] == pp[1]) && (w[2] == "*" || w[2] == pp[2]) &&
					    glob(rule[i, "from"], pod[s]) && glob(rule[i, "to"], pod[d]))
						v = rule[i, "v"]
				}
				row = row (s == d ? "X" : v)
			}
			print pod[s] " " row
		}
	}
}
