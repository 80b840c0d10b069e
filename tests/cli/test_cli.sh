#!/bin/sh
# End-to-end checks of the sluice command: results, exit codes (0 ok,
# 1 failure, 2 usage), one-line errors naming file and line or pc, --json.
# usage: test_cli.sh SLUICE CONFORMANCE_DIR TESTS_DIR
set -u
SLUICE=$1
CONFORMANCE=$2
TESTS=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../lib/expect.sh"

# A program: r0 = (mem[0..4] as u32) + r2 (the mem length).
cat >"$TMP/sum.s" <<'ASM'
ldxw %r0, [%r1]
add %r0, %r2
exit
ASM
expect 0 "0x4030206" "$SLUICE" run "$TMP/sum.s" --mem "02 02 03 04"
expect 0 '"r0":67305990' "$SLUICE" run "$TMP/sum.s" --mem 02020304 --json
expect 0 '"executed":3' "$SLUICE" --json run "$TMP/sum.s" --mem 02020304
printf '\002\002\003\004' >"$TMP/mem.bin"
expect 0 "0x4030206" "$SLUICE" run "$TMP/sum.s" --mem-file "$TMP/mem.bin" --checked

# asm -> bin -> disasm -> asm gives the same bytes.
expect 0 "" "$SLUICE" asm "$TMP/sum.s" -o "$TMP/sum.bin"
expect 0 "ldxw %r0, [%r1+0]" "$SLUICE" disasm "$TMP/sum.bin"
"$SLUICE" disasm "$TMP/sum.bin" >"$TMP/again.s"
expect 0 "" "$SLUICE" asm "$TMP/again.s" -o "$TMP/again.bin"
expect 0 "" cmp "$TMP/sum.bin" "$TMP/again.bin"
expect 0 "r0 = *(u32 *)(r1 + 0)" "$SLUICE" disasm --style=llvm "$TMP/sum.bin"
expect 0 '"text":"exit"' "$SLUICE" disasm "$TMP/sum.bin" --json
expect 0 '"insns":3' "$SLUICE" asm "$TMP/sum.s" -o "$TMP/sum.bin" --json

# Checked mode and the budget stop what unchecked mode would not catch.
expect 1 "pc 0: out-of-bounds 4-byte load" "$SLUICE" run "$TMP/sum.s" --mem 0102 --checked
printf 'ja -1\nexit\n' >"$TMP/loop.s"
expect 1 "instruction budget of 1000 spent" "$SLUICE" run "$TMP/loop.s" --budget 1000
expect 1 '"error":' "$SLUICE" run "$TMP/loop.s" --budget 1000 --json

# Bad assembly: one line naming file and line.
printf 'mov %%r0, 1\naddd %%r0, 1\nexit\n' >"$TMP/bad.s"
expect 1 "bad.s:2: unknown mnemonic" "$SLUICE" run "$TMP/bad.s"
printf 'mov %%r11, 1\nexit\n' >"$TMP/badreg.s"
expect 1 "badreg.s:1:" "$SLUICE" asm "$TMP/badreg.s" -o "$TMP/x.bin"
printf 'ja nowhere\nexit\n' >"$TMP/badlabel.s"
expect 1 "badlabel.s:1:" "$SLUICE" run "$TMP/badlabel.s"
printf 'mov %%r0, 4294967296\nexit\n' >"$TMP/bigimm.s"
expect 1 "bigimm.s:1:" "$SLUICE" run "$TMP/bigimm.s"

# Bad bytecode: odd length, lddw cut in half, unknown opcode, jump outside.
printf '\225\000\000\000\000\000\000\000\000\000\000' >"$TMP/odd.bin"
expect 1 "odd.bin: program size 11 is not a multiple of 8 bytes" "$SLUICE" run "$TMP/odd.bin"
printf '\030\000\000\000\001\000\000\000' >"$TMP/lddw.bin"
expect 1 "lddw.bin: pc 0: lddw is missing its second half" "$SLUICE" disasm "$TMP/lddw.bin"
printf '\377\000\000\000\000\000\000\000' >"$TMP/op.bin"
expect 1 "op.bin: pc 0: unknown opcode 0xff" "$SLUICE" run "$TMP/op.bin"
printf '\005\000\005\000\000\000\000\000\225\000\000\000\000\000\000\000' >"$TMP/jump.bin"
expect 1 "jump.bin: pc 0: ja target 6 is outside the program" "$SLUICE" run "$TMP/jump.bin"
printf '\267\000\000\000\001\000\000\000' >"$TMP/nofallthrough.bin"
expect 1 "pc 1: fell off the end of the program" "$SLUICE" run "$TMP/nofallthrough.bin"
: >"$TMP/empty.bin"
expect 1 "empty program" "$SLUICE" run "$TMP/empty.bin"

# Usage errors exit 2; missing files exit 1.
expect 2 "usage: sluice" "$SLUICE"
expect 2 "unknown command 'frobnicate'" "$SLUICE" frobnicate
expect 2 "expected one program file" "$SLUICE" run
expect 2 "unknown engine 'warp'" "$SLUICE" run "$TMP/sum.s" --engine warp
expect 2 "--mem and --mem-file exclude each other" "$SLUICE" run "$TMP/sum.s" --mem 00 --mem-file "$TMP/mem.bin"
expect 2 "--budget takes a positive number" "$SLUICE" run "$TMP/sum.s" --budget -3
expect 2 "missing -o" "$SLUICE" asm "$TMP/sum.s"
expect 2 "unknown style 'intel'" "$SLUICE" disasm "$TMP/sum.bin" --style=intel
expect 1 "cannot open '$TMP/none.s'" "$SLUICE" run "$TMP/none.s"
expect 1 "--mem: bad hex byte at offset 0" "$SLUICE" run "$TMP/sum.s" --mem "0g"
expect 0 "commands:" "$SLUICE" help

# The conformance runner: summary line, JSON, a failing test reported.
expect 0 "313 passed, 0 failed" "$SLUICE" conformance "$CONFORMANCE"
expect 0 '"passed":313,"failed":0' "$SLUICE" conformance "$CONFORMANCE" --json
printf -- '-- asm\nmov %%r0, 1\nexit\n-- result\n0x2\n' >"$TMP/wrong.data"
expect 1 "FAIL wrong.data: r0 = 0x1, expected 0x2" "$SLUICE" conformance "$TMP/wrong.data"
printf -- '-- asm\nmov %%r0, 1\nexit\n-- bogus\n' >"$TMP/section.data"
expect 1 "section.data:4: unknown section" "$SLUICE" conformance "$TMP/section.data"
expect 1 "cannot open" "$SLUICE" conformance "$TMP/missing-dir"

expect_summary
