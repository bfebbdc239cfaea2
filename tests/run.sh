#!/usr/bin/env bash
# Runs every test (unit, then end-to-end) and ends with one summary line:
# "check: N passed, N failed, N skipped". Exits non-zero when any failed.
#   --unit-only  no end-to-end tests
#   --fuzz       also each fuzz target that 'make fuzz' built, for a fixed
#                number of executions (tests/fuzz/run.sh): one line each
set -uo pipefail
cd "$(dirname "$0")/.."

unit_only=false fuzz=false
for arg in "$@"; do
    case $arg in
        --unit-only) unit_only=true ;;
        --fuzz) fuzz=true ;;
        *) echo "usage: tests/run.sh [--unit-only] [--fuzz]" >&2; exit 2 ;;
    esac
done

pass=0 fail=0 skip=0
count() { # reads TAP on stdin, echoes it, adds up the results
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line"
        case "$line" in
            "not ok "*) fail=$((fail + 1)) ;;
            "ok "*"# skip"*|"ok "*"# SKIP"*) skip=$((skip + 1)) ;;
            "ok "*) pass=$((pass + 1)) ;;
        esac
    done
}

for t in build/tests/test_*; do
    echo "# unit: $t"
    count < <("$t" 2>&1 || echo "not ok - $t exited with status $?")
done
if $fuzz; then
    echo "# fuzz: tests/fuzz/run.sh"
    count < <(tests/fuzz/run.sh 2>&1)
fi
if ! $unit_only; then
    echo "# end-to-end: bats tests/e2e"
    count < <(bats --tap tests/e2e 2>&1)
fi
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
