#!/usr/bin/env bash
# Starts a real single-node Apache Kafka (KRaft, combined broker+controller, node.id 1) from the
# Maven Central jars in deploy/kafka/lib/ (built by fetch.sh, run first when needed) and prints
# its bootstrap address (127.0.0.1:PORT) on stdout; progress goes to stderr. When it already
# runs, only prints the address. The storage is formatted once (new cluster id); data is kept
# across restarts until kafka-stop.sh --destroy.
#
# Usage: deploy/kafka/kafka-start.sh
#
# Files in $RUNTIME/kafka: bootstrap (the address), server.properties (rewritten at each start),
# cluster.id, data/ (log.dirs and KRaft metadata), ports ("BROKER CONTROLLER" in use),
# kafka.pid, kafka.log (broker output, appended).
# Secure listeners (not on a PGCS_KAFKA_JOIN broker), for the suite's TLS tests (tests/tls):
#   SASL_SSL on the first free port from broker port + 2: PLAIN (users pgcs_plain and pgcs_acl,
#            in the listener's JAAS config) and SCRAM-SHA-512 (users pgcs_scram and pgcs_acl,
#            made by Kafka's own StorageTool --add-scram when the storage is formatted,
#            ConfigCommand for storage formatted before); one password for all, in
#            sasl.password. (librdkafka before 2.6.1, Debian 12's 2.0.2, cannot log in with
#            SCRAM to Kafka 4.x: the tests check that it says so.)
#   SSL      on the next free port: mutual TLS (ssl.client.auth=required), principal
#            User:pgcs_cert (the client certificate's CN, ssl.principal.mapping.rules)
# with the certificates of deploy/test-pki.sh in pki/ (server.pem, ca.crt; clients use
# client.crt/client.key). Their addresses: bootstrap.sasl_ssl, bootstrap.ssl. ACLs: the
# StandardAuthorizer with allow.everyone.if.no.acl.found, so only resources with an ACL are
# restricted (the plaintext listener's User:ANONYMOUS keeps every right elsewhere).
# Environment:
#   PGCS_RUNTIME_DIR            runtime folder (default <repo>/.run)
#   PGCS_KAFKA_PORT             broker port to try first (default 59092)
#   PGCS_KAFKA_CONTROLLER_PORT  controller port to try first (default broker port + 1)
#       When either is taken by another program, the next free pair above is used (the data
#       stays valid when the ports change: the quorum is static).
#   PGCS_KAFKA_HEAP_OPTS        default "-Xms256m -Xmx512m"
#   PGCS_KAFKA_JVM_OPTS         other JVM options (default: serial GC, C1 only, small code cache)
#   PGCS_KAFKA_CDS              0: no class data sharing archive (default: $RUNTIME/kafka/cds-*.jsa,
#                               made by the first start and clean stop; later starts are faster)
#   PGCS_KAFKA_PROPERTIES       extra server.properties lines (name=value, one a line), applied last
#   PGCS_KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90)
#   PGCS_KAFKA_JOIN             runtime folder of a running broker started by this script: this one
#                               joins its cluster as a broker only (its controller is the quorum),
#                               node.id PGCS_KAFKA_NODE_ID (default 2). The fault suite's
#                               leader-change scenario runs a two-broker cluster this way.
#   PGCS_JAVA                   java to use (default $JAVA_HOME/bin/java, else java on PATH)
# Readiness is checked with `kcat -L` (a metadata request) when kcat is installed, else by a TCP
# connect. Stop it with deploy/kafka/kafka-stop.sh.
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,45s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# shellcheck source=deploy/kafka/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
set_runtime
START_TIMEOUT=${PGCS_KAFKA_START_TIMEOUT:-90}
[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "PGCS_KAFKA_START_TIMEOUT must be a number of seconds"
HEAP_OPTS=${PGCS_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
JVM_OPTS=${PGCS_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=64m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}

port_busy() {
    if command -v ss >/dev/null; then
        ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q .
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

NODE_ID=1
JOIN=${PGCS_KAFKA_JOIN:-}
if [ -n "$JOIN" ]; then
    NODE_ID=${PGCS_KAFKA_NODE_ID:-2}
    [[ "$NODE_ID" =~ ^[0-9]+$ ]] && [ "$NODE_ID" -gt 1 ] ||
        die "PGCS_KAFKA_NODE_ID must be a number above 1 (node 1 is the controller)"
    read -r _ join_cp < "$JOIN/kafka/ports" 2>/dev/null ||
        die "PGCS_KAFKA_JOIN=$JOIN: no $JOIN/kafka/ports (start that broker first)"
    join_id=$(cat "$JOIN/kafka/cluster.id" 2>/dev/null) ||
        die "PGCS_KAFKA_JOIN=$JOIN: no $JOIN/kafka/cluster.id"
fi

# True when the broker at 127.0.0.1:$1 answers a metadata request listing this node.
# (The broker listener opens only once the broker is registered and unfenced.)
answers() {
    port_busy "$1" || return 1
    if command -v kcat >/dev/null; then
        timeout 10 kcat -L -J -m 3 -b "127.0.0.1:$1" 2>/dev/null | grep -q "{\"id\":$NODE_ID,"
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

alive() {
    kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# One start/stop at a time per runtime folder. The broker must not inherit the lock's fd.
exec 9>"$LOCK"
flock -w 120 9 || die "another kafka-start/stop holds $LOCK"

if pid=$(broker_pid); then
    printf '%s\n' "$pid" > "$PIDFILE"
    read -r bp _ < "$PORTS" 2>/dev/null || die "Kafka (pid $pid) runs but $PORTS is missing"
    if [ ! -s "$BOOTSTRAP" ]; then
        # a start that was interrupted while waiting: wait here instead
        for _ in $(seq 1 "$START_TIMEOUT"); do
            answers "$bp" && break
            sleep 1
        done
        answers "$bp" || die "Kafka (pid $pid) runs but does not answer on 127.0.0.1:$bp; see $LOG"
        printf '127.0.0.1:%s\n' "$bp" > "$BOOTSTRAP.tmp" && mv "$BOOTSTRAP.tmp" "$BOOTSTRAP"
    fi
    say "already running (pid $pid)"
    cat "$BOOTSTRAP"
    exit 0
fi
rm -f "$PIDFILE" "$BOOTSTRAP"

find_java
ensure_lib
version=$("$KDIR/fetch.sh" --quiet)

# Ports: the ones asked for (default 59092/59093), else the next free pair above.
bp=${PGCS_KAFKA_PORT:-59092}
cp=${PGCS_KAFKA_CONTROLLER_PORT:-$((bp + 1))}
[[ "$bp" =~ ^[0-9]+$ && "$cp" =~ ^[0-9]+$ ]] || die "ports must be numbers (got '$bp', '$cp')"
if [ "$bp" = "$cp" ] || port_busy "$bp" || port_busy "$cp"; then
    want="$bp/$cp"
    found=
    for ((p = bp + 2; p < bp + 400 && p < 65535; p += 2)); do
        if ! port_busy "$p" && ! port_busy "$((p + 1))"; then
            found=$p
            break
        fi
    done
    [ -n "$found" ] || die "ports $want are taken and no free pair found above them"
    bp=$found cp=$((found + 1))
    say "port(s) $want taken by another program; using $bp/$cp"
fi

# The secure listeners' ports: the first free ones from bp + 2 that are neither bp nor cp.
sp= tp=
if [ -z "$JOIN" ]; then
    next_free() {
        local p=$1
        while [ "$p" = "$bp" ] || [ "$p" = "$cp" ] || port_busy "$p"; do p=$((p + 1)); done
        echo "$p"
    }
    sp=$(next_free $((bp + 2)))
    tp=$(next_free $((sp + 1)))
    bash "$REPO/deploy/test-pki.sh" "$KRUN/pki" || die "cannot make the test PKI in $KRUN/pki"
    if [ ! -s "$KRUN/sasl.password" ]; then
        (umask 077 && tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 > "$KRUN/sasl.password") || true
    fi
    sasl_pw=$(cat "$KRUN/sasl.password")
fi

# server.properties, rewritten each time (ports may change; the data stays valid).
{
    cat <<PROPS
# Written by deploy/kafka/kafka-start.sh at each start; edits are lost (use PGCS_KAFKA_PROPERTIES).
$(if [ -z "$JOIN" ]; then
    echo "process.roles=broker,controller"
    echo "listeners=PLAINTEXT://127.0.0.1:$bp,CONTROLLER://127.0.0.1:$cp,SASL_SSL://127.0.0.1:$sp,SSL://127.0.0.1:$tp"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$bp,SASL_SSL://127.0.0.1:$sp,SSL://127.0.0.1:$tp"
    echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL"
    echo "# TLS and SASL for the suite's TLS tests (tests/tls)"
    echo "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN"
    echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    echo "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_pgcs_plain=\"$sasl_pw\" user_pgcs_acl=\"$sasl_pw\";"
    echo "listener.name.ssl.ssl.client.auth=required"
    echo "ssl.keystore.type=PEM"
    echo "ssl.keystore.location=$KRUN/pki/server.pem"
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$KRUN/pki/ca.crt"
    echo "ssl.principal.mapping.rules=RULE:^CN=([^,]*)\$/\$1/,DEFAULT"
    echo "# static quorum: survives a change of port (a dynamic one would pin the controller address)"
    echo "controller.quorum.voters=1@127.0.0.1:$cp"
else
    echo "process.roles=broker"
    echo "listeners=PLAINTEXT://127.0.0.1:$bp"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$bp"
    echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    echo "controller.quorum.voters=1@127.0.0.1:$join_cp"
fi)
node.id=$NODE_ID
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DATA
auto.create.topics.enable=true
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# ACLs are enforced but everything is allowed until an ACL names a resource: the suite denies one
# topic prefix to check how the daemon handles authorization errors.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
# small footprint: it shares a 2-core machine with PostgreSQL and the tests
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
PROPS
    if [ -n "${PGCS_KAFKA_PROPERTIES:-}" ]; then
        echo "# from PGCS_KAFKA_PROPERTIES"
        printf '%s\n' "$PGCS_KAFKA_PROPERTIES"
    fi
} > "$CONFIG.tmp"
chmod 0600 "$CONFIG.tmp"   # the SASL_SSL listener's JAAS config holds the test password
mv "$CONFIG.tmp" "$CONFIG"
printf '%s %s\n' "$bp" "$cp" > "$PORTS"

TOOLS_LOG4J=-Dlog4j2.configurationFile=$KDIR/log4j2-tools.properties
if [ ! -f "$DATA/meta.properties" ]; then
    # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
    cluster_id=${join_id:-$(cat "$KRUN/cluster.id" 2>/dev/null || true)}
    while ! [[ "$cluster_id" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]]; do
        cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    done
    printf '%s\n' "$cluster_id" > "$KRUN/cluster.id"
    rm -rf "$DATA"
    say "formatting $DATA (cluster id $cluster_id)"
    scram=()
    if [ -z "$JOIN" ]; then
        scram=(--add-scram "SCRAM-SHA-512=[name=pgcs_scram,password=$sasl_pw]"
               --add-scram "SCRAM-SHA-512=[name=pgcs_acl,password=$sasl_pw]")
    fi
    if ! "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "$TOOLS_LOG4J" -cp "$LIB/*" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" "${scram[@]}" 2>&1 9>&- |
        sed -E 's/UserScramCredentialRecord\([^)]*\)/UserScramCredentialRecord(...)/g' >>"$LOG"; then
        rm -rf "$DATA"
        tail -n 20 "$LOG" >&2 || true
        die "formatting the storage failed; see $LOG"
    fi
    [ -n "$JOIN" ] || touch "$KRUN/scram.users"
fi

# Class data sharing: the first start records the classes it loads into an archive, written
# when the JVM exits (kafka-stop.sh renames it into place after a clean stop); later starts map
# it, which halves start time and CPU. Keyed by lib/ and the JVM, so a change makes a new one.
CDS_OPTS=()
if [ "${PGCS_KAFKA_CDS:-1}" != 0 ]; then
    cds_key=$({ cat "$LIB/.stamp"; echo "$JAVA"; "$JAVA" -version 2>&1; } | sha256sum | cut -c1-16)
    jsa=$KRUN/cds-$cds_key.jsa
    if [ -s "$jsa" ]; then
        CDS_OPTS=(-XX:SharedArchiveFile="$jsa" -Xshare:auto)
    else
        rm -f "$KRUN"/cds-*.jsa "$KRUN"/cds-*.jsa.new
        CDS_OPTS=(-XX:ArchiveClassesAtExit="$jsa.new")
    fi
fi

say "starting Apache Kafka $version on 127.0.0.1:$bp (controller :$cp; log: $LOG)"
printf '\n=== %s: starting Apache Kafka %s (127.0.0.1:%s, controller :%s)\n' \
    "$(date -u +%FT%TZ)" "$version" "$bp" "$cp" >> "$LOG"
t0=$(date +%s.%N)
# setsid: its own session, so the caller's terminal or process group signals do not reach it.
# Started from a script (no job control), setsid and nohup exec in place: $! is the JVM.
# shellcheck disable=SC2086  # the option variables are lists of words
setsid nohup "$JAVA" $HEAP_OPTS $JVM_OPTS "${CDS_OPTS[@]}" \
    -Dlog4j2.configurationFile="$KDIR/log4j2-broker.properties" -Dkafka.logs.dir="$KRUN" \
    -cp "$LIB/*" kafka.Kafka "$CONFIG" </dev/null >>"$LOG" 2>&1 9>&- &
pid=$!
printf '%s\n' "$pid" > "$PIDFILE"

fail() {
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE" "$KRUN"/cds-*.jsa.new
    tail -n 30 "$LOG" >&2 || true
    die "$1; see $LOG"
}

deadline=$(($(date +%s) + START_TIMEOUT))
until answers "$bp"; do
    alive "$pid" || fail "Kafka exited at start"
    [ "$(date +%s)" -lt "$deadline" ] || fail "Kafka did not answer on 127.0.0.1:$bp within $START_TIMEOUT s"
    sleep 0.5
done
is_our_broker "$pid" || fail "pid $pid is not the broker just started"
if [ -z "$JOIN" ]; then
    if [ ! -f "$KRUN/scram.users" ]; then   # storage formatted before the SCRAM users existed
        for user in pgcs_scram pgcs_acl; do
            "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "$TOOLS_LOG4J" -cp "$LIB/*" \
                org.apache.kafka.tools.ConfigCommand --bootstrap-server "127.0.0.1:$bp" --alter \
                --entity-type users --entity-name "$user" \
                --add-config "SCRAM-SHA-512=[password=$sasl_pw]" >>"$LOG" 2>&1 9>&- ||
                fail "cannot create the SCRAM user $user"
        done
        touch "$KRUN/scram.users"
    fi
    printf '127.0.0.1:%s\n' "$sp" > "$KRUN/bootstrap.sasl_ssl"
    printf '127.0.0.1:%s\n' "$tp" > "$KRUN/bootstrap.ssl"
fi
printf '127.0.0.1:%s\n' "$bp" > "$BOOTSTRAP.tmp" && mv "$BOOTSTRAP.tmp" "$BOOTSTRAP"
say "running (pid $pid), ready after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
cat "$BOOTSTRAP"
