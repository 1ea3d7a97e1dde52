#!/usr/bin/env bash
# Install the Debian packages hongbao needs. As root it runs apt-get; otherwise it prints the
# exact apt-get line to run and exits 1.
#   scripts/install-deps.sh build   what `make run` needs: compiler, CMake, libraries, and
#                                   espeak-ng (payments' spoken receipts)
#   scripts/install-deps.sh test    also what `make test` needs: cmocka, clang's sanitizers,
#                                   PostgreSQL (the tests run on both stores), Chromium and
#                                   CJK fonts (the web pages' tests)
set -euo pipefail

build_packages=(build-essential cmake pkg-config libsqlite3-dev libssl-dev sqlite3
                libmicrohttpd-dev libjansson-dev libinih-dev libpq-dev libqrencode-dev libpng-dev
                libcurl4-openssl-dev espeak-ng)
test_packages=(libcmocka-dev curl openssl postgresql clang libclang-rt-14-dev
                cppcheck clang-tidy valgrind zbar-tools chromium fonts-noto-cjk)

want=("${build_packages[@]}")
if [ "${1:-build}" = "test" ]; then
    want+=("${test_packages[@]}")
fi

# The build vendors the web pages' npm packages, and the tests run on Node.js: any node and
# npm on the PATH will do.
if ! { command -v node && command -v npm; } >/dev/null 2>&1; then
    want+=(nodejs npm)
fi

missing=()
for pkg in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "hongbao needs these Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
