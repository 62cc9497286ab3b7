#!/usr/bin/env bash
# Resolves the Apache Kafka broker, its console tools and TopicDump into deploy/kafka/lib/
# (git-ignored) with Maven, from Maven Central through the normal ~/.m2 cache, and prints the
# Kafka version on stdout (progress goes to stderr).
#
# Usage: deploy/kafka/fetch.sh [--force] [--quiet]
#
# Maven runs only when lib/ is missing or incomplete, or pom.xml or src/ changed since lib/ was
# built (a hash of them is kept in lib/.stamp); --force always rebuilds. lib/ is built in
# target/lib.new and then swapped in, so an interrupted run leaves the old lib/ intact.
# --quiet: no progress messages when nothing is to be done.
# Environment:
#   PGCS_MVN        Maven command (default: mvn)
#   PGCS_MVN_ARGS   extra Maven arguments, e.g. "-o" to stay offline
#   MAVEN_OPTS      as usual
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

force=0 quiet=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        --quiet) quiet=1 ;;
        -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument '$arg' (try --help)" ;;
    esac
done

KDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
LIB=$KDIR/lib
STAMP=$LIB/.stamp
MVN=${PGCS_MVN:-mvn}

# pom.xml and the sources (names and contents) decide what lib/ holds.
want_stamp() {
    (
        cd "$KDIR"
        sha256sum pom.xml
        find src -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    ) | sha256sum | cut -d' ' -f1
}

lib_complete() {
    compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null &&
        compgen -G "$LIB/kafka-tools-*.jar" >/dev/null &&
        [ -f "$LIB/pgcs-kafka-tools.jar" ]
}

kafka_version() {
    local j
    j=$(compgen -G "$LIB/kafka_2.13-*.jar" | head -n 1)
    j=${j##*/kafka_2.13-}
    printf '%s\n' "${j%.jar}"
}

# One fetch at a time (target/ is git-ignored).
mkdir -p "$KDIR/target"
exec 9>"$KDIR/target/fetch.lock"
flock -w 600 9 || die "another fetch.sh holds $KDIR/target/fetch.lock"

stamp=$(want_stamp)
if [ "$force" = 0 ] && lib_complete && [ "$(cat "$STAMP" 2>/dev/null)" = "$stamp" ]; then
    [ "$quiet" = 1 ] || say "lib/ is up to date ($LIB)"
    [ "$quiet" = 1 ] || say "Apache Kafka $(kafka_version)"
    kafka_version
    exit 0
fi
command -v "$MVN" >/dev/null || die "$MVN not found (apt-get install maven)"
command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jdk-headless)"
NEW=$KDIR/target/lib.new
rm -rf "$NEW"
say "resolving Kafka with Maven into $LIB (cache: ~/.m2) ..."
# shellcheck disable=SC2086  # PGCS_MVN_ARGS is a list of words
(cd "$KDIR" && "$MVN" -q -B -Dstyle.color=never ${PGCS_MVN_ARGS:-} -Dpgcs.lib.dir="$NEW" \
    package dependency:copy-dependencies) 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2 ||
    die "Maven failed (see above); lib/ left as it was"
printf '%s\n' "$stamp" > "$NEW/.stamp"
OLD=$KDIR/target/lib.old
rm -rf "$OLD"
[ ! -e "$LIB" ] || mv "$LIB" "$OLD"
mv "$NEW" "$LIB"
rm -rf "$OLD"
lib_complete || die "Maven ran but $LIB lacks the Kafka jars"
say "lib/ built: $(find "$LIB" -name '*.jar' | wc -l) jars, $(du -sh "$LIB" | cut -f1)"
say "Apache Kafka $(kafka_version)"
kafka_version
