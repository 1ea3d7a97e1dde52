#!/usr/bin/env bash
# Run every libFuzzer harness (tests/fuzz/fuzz_*.c, built by `make fuzz-build` into
# build/fuzz) for SECONDS each, on its committed seeds (tests/fuzz/corpus/NAME, read only)
# plus a working corpus that grows in build/fuzz/corpus/NAME. Prints one line per harness:
# executions, seconds, and the outcome; any crash, leak, timeout or sanitizer report fails
# the run and leaves the reproducer (crash-*, leak-*, timeout-*) in build/fuzz/findings.
#   scripts/fuzz.sh SECONDS [HARNESS...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:?usage: scripts/fuzz.sh SECONDS [HARNESS...]}
shift
build=$here/build/fuzz
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    for f in "$here"/tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$f" .c | sed 's/^fuzz_//')"); done
fi
mkdir -p "$build/findings"
failed=0
for name in "${harnesses[@]}"; do
    mkdir -p "$build/corpus/$name"
    log=$build/fuzz-$name.log
    set +e
    (cd "$build/findings" && "$build/fuzz_$name" -max_total_time="$seconds" -timeout=25 \
        -rss_limit_mb=4096 -print_final_stats=1 "$build/corpus/$name" \
        "$here/tests/fuzz/corpus/$name") >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "fuzz $name: ${runs:-?} executions in ${took:-?} s, no finding"
    else
        echo "fuzz $name: FAILED after ${runs:-?} executions (see $log):" >&2
        grep -E 'ERROR|SUMMARY|fuzz_[a-z_]+:' "$log" | head -5 >&2
        failed=1
    fi
done
exit $failed
