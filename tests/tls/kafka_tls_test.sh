#!/usr/bin/env bash
# Kafka over TLS and SASL, end to end, on the suite's Apache Kafka broker and its secure
# listeners (deploy/kafka/kafka-start.sh): capture over SASL_SSL (PLAIN, the password from
# kafka.sasl_password_file) and over mutual TLS (SSL with a client certificate), each read back
# over the same listener; SCRAM-SHA-512 (with librdkafka before 2.6.1 it cannot log in to Kafka
# 4.x, and the daemon says so); a wrong password, a wrong CA and a missing client certificate
# each exit 2 with advice; a missing Write or Describe ACL stops the daemon naming the ACLs,
# nothing acknowledged. No daemon log holds the password or a private key. Label kafka.
# shellcheck source=tests/tls/_tls_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/_tls_env.sh"

KRUN=$RUNTIME/kafka
for f in bootstrap bootstrap.sasl_ssl bootstrap.ssl sasl.password pki/ca.crt; do
    [ -s "$KRUN/$f" ] || { echo "no $KRUN/$f: start Apache Kafka with deploy/kafka/kafka-start.sh" >&2; exit 1; }
done
PLAINTEXT=$(cat "$KRUN/bootstrap") SASL=$(cat "$KRUN/bootstrap.sasl_ssl") MTLS=$(cat "$KRUN/bootstrap.ssl")
PKI=$KRUN/pki
PW=$(cat "$KRUN/sasl.password")
SECRETS+=("$PW" "wrong-$SFX")
PG=$(pg_conninfo)
sql() { psql "$PG" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
cleanup() {
    set +e
    [ -n "${DAEMON_PID:-}" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
    sql -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'tls\\_${SFX}%'" >/dev/null
    for t in a b c d e f; do sql -c "DROP TABLE IF EXISTS public.tls_${SFX}_$t; DROP PUBLICATION IF EXISTS tls_${SFX}_$t" >/dev/null; done
    [ "${KEEP_WORK:-}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
for t in a b c d e f; do sql -c "CREATE TABLE public.tls_${SFX}_$t (id int PRIMARY KEY, note text)"; done
printf '%s\n' "$PW" > "$WORK/kafka.password"
chmod 600 "$WORK/kafka.password"
CA="    ssl.ca.location: $PKI/ca.crt"
SASL_PLAIN="  sasl_password_file: kafka.password
  properties:
    message.timeout.ms: 20000
    security.protocol: SASL_SSL
    sasl.mechanisms: PLAIN
    sasl.username: pgcs_plain
$CA"
CLIENT_CERT="    ssl.certificate.location: $PKI/client.crt
    ssl.key.location: $PKI/client.key"
# write_kafka_config FILE TABLE KAFKA_SECTION: PREFIX and SLOT follow the table.
write_kafka_config() {
    SLOT=tls_${SFX}_$2 PREFIX=tls_${SFX}_$2
    write_config "$1" "$PG" "$4" "public.tls_${SFX}_$2" "$3"
}

# capture NAME TABLE CONFIG KCAT_ARGS...: the daemon streams, a row reaches the topic, read back
# over the same listener.
capture() {
    local name=$1 table=$2 config=$3
    shift 3
    start_daemon "$name" "$config"
    if wait_log "streaming slot" 30; then
        sql -c "INSERT INTO public.tls_${SFX}_$table VALUES (1, 'via $name')"
        if consume_until "via $name" 30 -t "tls_${SFX}_$table.public.tls_${SFX}_$table" "$@"; then
            pass "$name: the row reached Kafka and reads back over the same listener"
        else
            fail "$name: no event with the row"
            tail -n 15 "$DAEMON_LOG" >&2
        fi
    else
        fail "$name: the daemon did not start streaming"
        tail -n 15 "$DAEMON_LOG" >&2
    fi
    stop_daemon "$name"
    DAEMON_PID=
}

# 1. SASL_SSL, PLAIN, the password from kafka.sasl_password_file.
write_kafka_config "$WORK/sasl.yaml" a "$SASL_PLAIN" "$SASL"
capture sasl_ssl_plain a "$WORK/sasl.yaml" -b "$SASL" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
    -X sasl.username=pgcs_plain -X "sasl.password=$PW" -X "ssl.ca.location=$PKI/ca.crt"

# 2. Mutual TLS.
MTLS_SECTION="  properties:
    message.timeout.ms: 20000
    security.protocol: SSL
$CA
$CLIENT_CERT"
write_kafka_config "$WORK/mtls.yaml" b "$MTLS_SECTION" "$MTLS"
capture mutual_tls b "$WORK/mtls.yaml" -b "$MTLS" -X security.protocol=SSL -X "ssl.ca.location=$PKI/ca.crt" \
    -X "ssl.certificate.location=$PKI/client.crt" -X "ssl.key.location=$PKI/client.key"

# 3. Refusals: exit 2, with advice.
printf 'wrong-%s\n' "$SFX" > "$WORK/wrong.password"
chmod 600 "$WORK/wrong.password"
write_kafka_config "$WORK/wrongpw.yaml" c "${SASL_PLAIN/kafka.password/wrong.password}" "$SASL"
run_refused wrong_password "$WORK/wrongpw.yaml" 2 "Kafka refuses this client: .*SASL authentication error.*"
write_kafka_config "$WORK/wrongca.yaml" c "${MTLS_SECTION/ca.crt/other-ca.crt}" "$MTLS"
run_refused wrong_ca "$WORK/wrongca.yaml" 2 "Kafka refuses this client: .*certificate verify failed"
write_kafka_config "$WORK/nocert.yaml" c "  properties:
    message.timeout.ms: 20000
    security.protocol: SSL
$CA" "$MTLS"
run_refused no_client_certificate "$WORK/nocert.yaml" 2 "alert (bad certificate|certificate required).*"
grep -q "what to do: " "$WORK/wrong_password.log" && grep -q "what to do: " "$WORK/wrong_ca.log" &&
    pass "the refusals say what to do" || fail "a Kafka refusal without advice"

# 4. SCRAM-SHA-512 (users made by Kafka's StorageTool --add-scram).
SCRAM="${SASL_PLAIN/sasl.mechanisms: PLAIN/sasl.mechanisms: SCRAM-SHA-512}"
write_kafka_config "$WORK/scram.yaml" d "${SCRAM/pgcs_plain/pgcs_scram}" "$SASL"
rdkafka=$(pkg-config --modversion rdkafka 2>/dev/null || echo 0)
if [ "$(printf '%s\n2.6.1\n' "$rdkafka" | sort -V | head -n 1)" != 2.6.1 ]; then
    run_refused "scram_with_librdkafka_$rdkafka" "$WORK/scram.yaml" 2 "fixed in librdkafka 2.6.1"
else
    capture sasl_ssl_scram d "$WORK/scram.yaml" -b "$SASL" -X security.protocol=SASL_SSL \
        -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=pgcs_scram -X "sasl.password=$PW" \
        -X "ssl.ca.location=$PKI/ca.crt"
fi

# 5. ACLs: pgcs_acl misses one grant the producer needs on the topic: Write (it may Describe
# and Read), or Describe (it may Read only). The topic exists beforehand (made over the
# plaintext listener), as in a cluster where an operator creates topics. The daemon must stop
# naming the refusal and the ACL to grant, with nothing acknowledged past the row.
# shellcheck source=deploy/java.sh
. "$REPO/deploy/java.sh"
find_java
# acl_case NAME TABLE OPERATION...: the ACL allows only these operations.
acl_case() {
    local name=$1 table=$2 topic=tls_${SFX}_$2.public.tls_${SFX}_$2 ops=() op rc=0 lsn acked
    shift 2
    for op in "$@"; do ops+=(--operation "$op"); done
    echo seed | kcat -P -b "$PLAINTEXT" -t "$topic" 2>/dev/null
    "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -Dlog4j2.configurationFile="$REPO/deploy/kafka/log4j2-tools.properties" -cp "$REPO/deploy/kafka/lib/*" \
        org.apache.kafka.tools.AclCommand --bootstrap-server "$PLAINTEXT" --add --allow-principal User:pgcs_acl \
        "${ops[@]}" --topic "tls_${SFX}_$table." --resource-pattern-type prefixed >"$WORK/acl-$name.out" 2>&1 ||
        { cat "$WORK/acl-$name.out" >&2; fail "$name: kafka-acls could not add the ACL"; return; }
    write_kafka_config "$WORK/$name.yaml" "$table" "${SASL_PLAIN/pgcs_plain/pgcs_acl}" "$SASL"
    start_daemon "$name" "$WORK/$name.yaml"
    if ! wait_log "streaming slot" 30; then
        fail "$name: the daemon did not start streaming"
        tail -n 15 "$DAEMON_LOG" >&2
        return
    fi
    sql -c "INSERT INTO public.tls_${SFX}_$table VALUES (1, 'denied')"
    lsn=$(sql -c "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 150); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.2; done
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=
    if [ "$rc" != 0 ] && grep -q "TOPIC_AUTHORIZATION_FAILED" "$DAEMON_LOG" && grep -q -- "--operation Write --operation Describe" "$DAEMON_LOG"; then
        pass "$name: exit $rc, the log names TOPIC_AUTHORIZATION_FAILED and the Write and Describe ACLs"
    else
        fail "$name: exit $rc; the log:"
        tail -n 15 "$DAEMON_LOG" >&2
    fi
    acked=$(sql -c "SELECT confirmed_flush_lsn >= '$lsn'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'tls_${SFX}_$table'")
    if [ "$acked" = f ]; then pass "$name: nothing acknowledged past the row"; else
        fail "$name: the slot was acknowledged past the row ('$acked')"; fi
}
acl_case missing_write_acl e Describe Read
records=$(timeout 10 kcat -C -e -q -b "$SASL" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
    -X sasl.username=pgcs_acl -X "sasl.password=$PW" -X "ssl.ca.location=$PKI/ca.crt" \
    -t "tls_${SFX}_e.public.tls_${SFX}_e" -f '%s\n' 2>/dev/null | grep -c . || true)
if [ "$records" = 1 ]; then pass "missing_write_acl: nothing written (the seed record only)"; else
    fail "missing_write_acl: $records records in the topic, expected the seed only"; fi
acl_case missing_describe_acl f Read

LOGS+=("$KRUN/kafka.log")   # the broker's own log too: its JAAS config and SCRAM records
check_no_secrets "$PKI"
finish
