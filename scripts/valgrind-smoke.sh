#!/usr/bin/env bash
# The CLI smoke test (tests/cli/smoke.sh) with every hongbao process under valgrind memcheck:
# any invalid read or write, use of uninitialised memory, bad free or definite leak fails the
# run. Each process writes its own report; the script lists them and sums the errors.
#   scripts/valgrind-smoke.sh [path/to/hongbao]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
hongbao=$(cd "$(dirname "${1:-$here/build/release/hongbao}")" && pwd)/$(basename "${1:-hongbao}")
dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-valgrind.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat >"$dir/hongbao" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \\
    --show-leak-kinds=definite --log-file="$dir/vg.%p.log" "$hongbao" "\$@"
WRAP
chmod +x "$dir/hongbao"
SMOKE_WAIT_STEPS=1200 "$here/tests/cli/smoke.sh" "$dir/hongbao"
processes=$(ls "$dir"/vg.*.log | wc -l)
errors=0
for log in "$dir"/vg.*.log; do
    if [ -s "$log" ]; then
        cat "$log" >&2
        errors=$((errors + 1))
    fi
done
echo "valgrind: $processes hongbao processes under memcheck, $errors with errors"
[ "$errors" -eq 0 ]
