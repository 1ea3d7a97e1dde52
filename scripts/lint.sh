#!/usr/bin/env bash
# Static analysis of src/ with the committed configuration: cppcheck (warnings, performance,
# portability; its style checks misread the value flow of the benchmark's chunked loops) and
# clang-tidy (.clang-tidy, every finding an error). Needs the release build's
# compile_commands.json (make release). Exit status non-zero on any finding.
#   scripts/lint.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}
cd "$here"
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
    -D_GNU_SOURCE --inline-suppr -I src src/
echo "lint: cppcheck clean on src/"
out=$(clang-tidy -p "$build" --quiet src/*/*.c 2>&1) || { echo "$out" | grep -E '(warning|error):' -A3 >&2; exit 1; }
if echo "$out" | grep -qE '^/.*(warning|error):'; then
    echo "$out" | grep -E '(warning|error):' -A3 >&2
    exit 1
fi
echo "lint: clang-tidy clean on src/ ($(ls src/*/*.c | wc -l) files)"
