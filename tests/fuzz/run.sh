#!/usr/bin/env bash
# Runs each fuzz target that 'make fuzz' built for a fixed number of
# executions, from a copy of its seeds in a temp folder (nothing new is
# written into tests/fuzz/corpus/), and prints one TAP line per target.
# A crash, a leak, a sanitizer report or a timeout fails the target; what
# set it off is kept in build/fuzz/findings/, and shown in base64.
#
#   FUZZ_RUNS=N      executions per target (default: each target's own, below,
#                    about 1.5 minutes for all four on two cores)
#   FUZZ_TARGETS=... the targets to run (default: every tests/fuzz/fuzz_*.c)
#   FUZZ_ARGS=...    more libFuzzer options, e.g. -max_total_time=600
#   FUZZ_TMPDIR=DIR  where the temp folder goes (default /dev/shm, else $TMPDIR)
set -uo pipefail
cd "$(dirname "$0")/../.."

# Executions per target: the slow ones (files, folders) get fewer.
default_runs() {
    case $1 in
        fuzz_archive) echo 60000 ;;
        fuzz_criu_images) echo 200000 ;;
        fuzz_json) echo 100000 ;;
        fuzz_manifest) echo 400000 ;;
        fuzz_frames_index) echo 200000 ;;
        *) echo 10000 ;;
    esac
}

targets=${FUZZ_TARGETS:-$(for c in tests/fuzz/fuzz_*.c; do basename "$c" .c; done)}
# On tmpfs where there is one: the targets write (and fuzz_archive makes and
# removes a folder of) files for every input, which a disk's journal slows
# down several times, and unevenly. Not a small one (a container's 64 MiB
# /dev/shm): the reader keeps 64 MiB free and would refuse every member.
base=${FUZZ_TMPDIR:-${TMPDIR:-/tmp}}
if [ -z "${FUZZ_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -ge $((1 << 20)) ]; then
    base=/dev/shm
fi
work=$(mktemp -d "$base/ctrmig-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
findings=build/fuzz/findings
n=0 failed=0
for t in $targets; do
    n=$((n + 1))
    bin=build/fuzz/$t
    if [ ! -x "$bin" ]; then
        failed=$((failed + 1))
        echo "not ok $n - $t: $bin is not built (make fuzz)"
        continue
    fi
    runs=${FUZZ_RUNS:-$(default_runs "$t")}
    dir=$work/$t
    mkdir -p "$dir/corpus" "$dir/tmp"
    [ -d "tests/fuzz/corpus/$t" ] && cp tests/fuzz/corpus/"$t"/* "$dir/corpus/"
    dict=(); [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    start=$(date +%s)
    # shellcheck disable=SC2086
    TMPDIR=$dir/tmp UBSAN_OPTIONS=print_stacktrace=1 "$bin" -runs="$runs" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$dir/" -print_final_stats=1 "${dict[@]}" \
        ${FUZZ_ARGS:-} "$dir/corpus" > "$dir/log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$dir/log")
    found=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' -o -name 'slow-unit-*' \) | grep -v slow-unit || true)
    if [ "$rc" -eq 0 ] && [ -z "$found" ] && ! grep -q -e '^==[0-9]*==ERROR' -e 'runtime error:' "$dir/log"; then
        echo "ok $n - $t: ${execs:-?} runs in ${secs}s"
        continue
    fi
    failed=$((failed + 1))
    echo "not ok $n - $t: exit status $rc after ${secs}s ($(grep -m1 -o 'Seed: [0-9]*' "$dir/log" || echo 'no seed'))"
    grep -m1 -A24 -e '^==[0-9]*==' -e 'runtime error:' -e '^fuzz: ' "$dir/log" | sed 's/^/#   /'
    mkdir -p "$findings"
    for f in $found; do
        cp "$f" "$findings/$t-$(basename "$f")"
        echo "#   input kept in $findings/$t-$(basename "$f"); base64:"
        base64 -w 76 "$f" | head -n 40 | sed 's/^/#     /'
    done
done
echo "1..$n"
[ "$failed" -eq 0 ]
