#!/usr/bin/env bash
# PostgreSQL over TLS, end to end: a cluster of its own that requires TLS (deploy/pg-start.sh
# with PGCS_PG_TLS, in $PGCS_RUNTIME_DIR/tls; started here, stopped at the end), the daemon
# streaming with sslmode=verify-full and a client certificate (`cert` authentication, no
# password), and each refusal a configuration error (exit 2, one attempt, advice): the wrong CA,
# a host name the certificate does not name, a server without TLS (the suite's own cluster:
# never plaintext), an expired client certificate. No daemon log holds a key or a password.
# Needs the suite's PostgreSQL and the dev broker (label devbroker).
# shellcheck source=tests/tls/_tls_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/_tls_env.sh"

BROKERS=${PGCS_TEST_BROKERS:-$(cat "$RUNTIME/devbroker.bootstrap" 2>/dev/null)} ||
    { echo "no dev broker: start it (deploy/devbroker-start.sh)" >&2; exit 1; }
PLAIN=$(pg_conninfo)
PLAIN_PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$PLAIN")
TLS_RUN=$RUNTIME/tls
PKI=$TLS_RUN/pki
bash "$REPO/deploy/test-pki.sh" "$PKI"
cleanup() {
    set +e
    [ -n "${DAEMON_PID:-}" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
    [ -n "${TLS_PORT:-}" ] && psql -X -q "host=$TLS_RUN/pg/socket port=$TLS_PORT user=postgres dbname=app" \
        -c "SELECT pg_drop_replication_slot('tls_$SFX') FROM pg_replication_slots WHERE slot_name = 'tls_$SFX'" >/dev/null 2>&1
    PGCS_RUNTIME_DIR=$TLS_RUN bash "$REPO/deploy/pg-stop.sh" >/dev/null 2>&1
    [ "${KEEP_WORK:-}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
# One left running by an interrupted run may have other certificates: start afresh.
PGCS_RUNTIME_DIR=$TLS_RUN bash "$REPO/deploy/pg-stop.sh" >/dev/null 2>&1 || true
PGCS_RUNTIME_DIR=$TLS_RUN PGCS_PG_TLS=$PKI PGCS_PG_PORT=$((PLAIN_PORT + 1)) \
    bash "$REPO/deploy/pg-start.sh" >/dev/null
TLS_PORT=$(cat "$TLS_RUN/pg/port")
CERT="sslcert=$PKI/client.crt sslkey=$PKI/client.key"
GOOD="host=localhost port=$TLS_PORT dbname=app user=pgcs_cert sslmode=verify-full sslrootcert=$PKI/ca.crt $CERT"
tsql() { psql "$GOOD" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
TABLE=tls_$SFX
tsql -c "CREATE TABLE public.$TABLE (id int PRIMARY KEY, secret_note text)"

# 1. Capture over verify-full with the client certificate.
write_config "$WORK/good.yaml" "$GOOD" "$BROKERS" "public.$TABLE"
start_daemon capture "$WORK/good.yaml"
if wait_log "streaming slot" 30; then
    tsql -c "INSERT INTO public.$TABLE VALUES (1, 'over tls')"
    # kcat -e stops at the end of the topic: asked again until the event is there (a slow
    # daemon, e.g. under the sanitizers, may not have sent it yet).
    got=
    for _ in $(seq 1 60); do
        got=$(timeout 10 kcat -C -b "$BROKERS" -t "tls_$SFX.public.$TABLE" -c 1 -e -q -f '%s' 2>/dev/null || true)
        grep -q '"over tls"' <<<"$got" && break
        sleep 0.5
    done
    if grep -q '"over tls"' <<<"$got"; then pass "capture over sslmode=verify-full with a client certificate"; else
        fail "capture: no event with the row in tls_$SFX.public.$TABLE (got '$got')"
        tail -n 15 "$DAEMON_LOG" >&2
    fi
    dn=$(tsql -c "SELECT string_agg(DISTINCT s.ssl || ' ' || coalesce(s.client_dn, ''), ',') FROM pg_stat_ssl s
                  JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pgchangeset' AND a.backend_type = 'walsender'")
    if [ "$dn" = "true /CN=pgcs_cert" ]; then pass "the walsender's connection is TLS with the client certificate ($dn)"; else
        fail "the daemon's replication connection: expected 'true /CN=pgcs_cert', got '$dn'"; fi
else
    fail "capture: the daemon did not start streaming over TLS"
    tail -n 20 "$DAEMON_LOG" >&2
fi
stop_daemon capture
DAEMON_PID=

# 2. Refusals: configuration errors, exit 2 after one attempt.
write_config "$WORK/ca.yaml" "${GOOD/ca.crt/other-ca.crt}" "$BROKERS" "public.$TABLE"
run_refused wrong_ca "$WORK/ca.yaml" 2 "certificate verify failed.*"
write_config "$WORK/host.yaml" "${GOOD/host=localhost/host=wrong.example hostaddr=127.0.0.1}" "$BROKERS" "public.$TABLE"
run_refused host_mismatch "$WORK/host.yaml" 2 'does not match host name "wrong.example"'
write_config "$WORK/plain.yaml" "host=localhost port=$PLAIN_PORT dbname=app user=postgres password=postgres sslmode=verify-full sslrootcert=$PKI/ca.crt" \
    "$BROKERS" "public.$TABLE"
run_refused server_without_tls "$WORK/plain.yaml" 2 "server does not support SSL, but SSL was required"
write_config "$WORK/expired.yaml" "${GOOD//client./expired.}" "$BROKERS" "public.$TABLE"
run_refused expired_client_certificate "$WORK/expired.yaml" 2 "alert certificate expired.*"
for name in wrong_ca host_mismatch server_without_tls expired_client_certificate; do
    attempts=$(grep -c "cannot connect to PostgreSQL" "$WORK/$name.log" || true)
    what=$(grep -c "what to do" "$WORK/$name.log" || true)
    if [ "$attempts" = 1 ] && [ "$what" -ge 1 ]; then pass "$name: one attempt, with advice"; else
        fail "$name: $attempts connection attempts logged (expected 1), $what advice lines"; fi
done

SECRETS+=("password=postgres")
LOGS+=("$TLS_RUN/pg/postgresql.log")
check_no_secrets "$PKI"
finish
