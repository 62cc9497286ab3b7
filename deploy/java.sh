# shellcheck shell=bash
# find_java: sets JAVA to $PGCS_JAVA, else $JAVA_HOME/bin/java, else java on PATH, and checks it
# is Java 17 or newer (Kafka 4 and the peers of tests/peers need it). Sourced, not run, by
# deploy/kafka/_common.sh and tests/peers/_build.sh; expects die() to be defined.
find_java() {
    local v major
    JAVA=${PGCS_JAVA:-}
    if [ -z "$JAVA" ]; then
        if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
            JAVA=$JAVA_HOME/bin/java
        else
            JAVA=$(command -v java) || die "java not found (apt-get install openjdk-17-jre-headless)"
        fi
    fi
    v=$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
    major=${v%%.*}
    [ "$major" = 1 ] && major=$(echo "$v" | cut -d. -f2)
    [[ "$major" =~ ^[0-9]+$ ]] || die "cannot tell the version of $JAVA ('$v')"
    [ "$major" -ge 17 ] || die "$JAVA is Java $v; Java 17 or newer is needed"
}
