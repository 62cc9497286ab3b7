#!/usr/bin/env bash
# The metrics endpoint behind TLS and basic auth (metrics.web_config_file, the Prometheus
# exporters' web config), checked with curl against the running daemon: 401 without credentials
# or with wrong ones, 200 with them, the certificate verified against the test CA (and refused
# without it), plain HTTP refused on the TLS port; check-config warns about an endpoint open to
# other hosts without TLS or basic auth. Needs the suite's PostgreSQL and the dev broker.
# shellcheck source=tests/tls/_tls_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/_tls_env.sh"

BROKERS=${PGCS_TEST_BROKERS:-$(cat "$RUNTIME/devbroker.bootstrap" 2>/dev/null)} ||
    { echo "no dev broker: start it (deploy/devbroker-start.sh)" >&2; exit 1; }
PKI=$RUNTIME/tls/pki
bash "$REPO/deploy/test-pki.sh" "$PKI"
PG=$(pg_conninfo)
sql() { psql "$PG" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
cleanup() {
    set +e
    [ -n "${DAEMON_PID:-}" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
    sql -c "SELECT pg_drop_replication_slot('tls_$SFX') FROM pg_replication_slots WHERE slot_name = 'tls_$SFX'" >/dev/null
    sql -c "DROP TABLE IF EXISTS public.tls_$SFX; DROP PUBLICATION IF EXISTS tls_$SFX" >/dev/null
    [ "${KEEP_WORK:-}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
sql -c "CREATE TABLE public.tls_$SFX (id int PRIMARY KEY)"
port=$((20000 + RANDOM % 20000))
while [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; do port=$((port + 1)); done
# bcrypt (cost 4) of "s3cret" ($2y$: htpasswd's prefix).
HASH='$2y$04$vCWEmPC0WthBkkyS5eO4x.LHDATTfoK1D9DTFt8by8kdZJBSO4c2G'
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n' \
    "$PKI/server.crt" "$PKI/server.key" "$HASH" > "$WORK/web.yml"
printf 'basic_auth_users:\n  prometheus: %s\n' "$HASH" > "$WORK/auth.yml"
metrics_config() {  # FILE WEB_CONFIG
    write_config "$1" "$PG" "$BROKERS" "public.tls_$SFX" "" "metrics:
  listen: 127.0.0.1:$port
  web_config_file: $2"
}
metrics_config "$WORK/m.yaml" web.yml
# Debian 12's civetweb cannot serve TLS with OpenSSL 3 (config/web_config.hpp): then TLS must be
# refused before anything runs, and basic auth is checked over plain HTTP.
tls=1
if out=$("$BIN" check-config --config "$WORK/m.yaml" 2>&1); then
    pass "check-config accepts TLS and basic auth"
elif grep -q "tls_server_config cannot be served here" <<<"$out"; then
    pass "TLS on this host's civetweb is refused by check-config, exit 2: $(grep -o 'this host.s civetweb[^,]*' <<<"$out")"
    run_refused tls_refused_at_start "$WORK/m.yaml" 2 "tls_server_config cannot be served here"
    tls=0
    metrics_config "$WORK/m.yaml" auth.yml
else
    fail "check-config refuses the web config: $out"
fi
start_daemon metrics "$WORK/m.yaml"
if [ "$tls" = 1 ]; then
    url=https://localhost:$port ip_url=https://127.0.0.1:$port TLS_ARGS=(--cacert "$PKI/ca.crt")
    wait_log "metrics on https://127.0.0.1:$port/metrics \(basic auth\)" 20 ||
        { fail "the daemon did not serve metrics over TLS"; tail -n 15 "$DAEMON_LOG" >&2; }
else
    url=http://127.0.0.1:$port ip_url=$url TLS_ARGS=()
    wait_log "metrics on http://127.0.0.1:$port/metrics \(basic auth\)" 20 ||
        { fail "the daemon did not serve metrics with basic auth"; tail -n 15 "$DAEMON_LOG" >&2; }
fi
# status CURL_ARGS...: the HTTP status curl gets, or "curl exit N" when there is no answer.
status() {
    local rc=0 code
    code=$(curl --noproxy '*' -sS -o /dev/null -w '%{http_code}' --max-time 5 "$@" 2>/dev/null) || rc=$?
    if [ "$rc" != 0 ] && [ "$code" = 000 ]; then echo "curl exit $rc"; else echo "$code"; fi
}
check() { if [ "$2" = "$3" ]; then pass "$1: $3"; else fail "$1: expected '$2', got '$3'"; fi; }
check "no credentials" 401 "$(status "${TLS_ARGS[@]}" "$url/metrics")"
check "wrong password" 401 "$(status "${TLS_ARGS[@]}" -u prometheus:wrong "$url/metrics")"
check "unknown user" 401 "$(status "${TLS_ARGS[@]}" -u nobody:s3cret "$url/healthz")"
check "right credentials, /metrics" 200 "$(status "${TLS_ARGS[@]}" -u prometheus:s3cret "$url/metrics")"
check "right credentials, /healthz by IP" 200 "$(status "${TLS_ARGS[@]}" -u prometheus:s3cret "$ip_url/healthz")"
body=$(curl --noproxy '*' -sS --max-time 5 "${TLS_ARGS[@]}" -u prometheus:s3cret "$url/metrics" 2>&1 || true)
grep -q '^pgchangeset_up ' <<<"$body" && pass "the metrics come with the right credentials" || fail "no pgchangeset_up in: ${body:0:200}"
if [ "$tls" = 1 ]; then
    check "a CA that did not sign the certificate" "curl exit 60" "$(status --cacert "$PKI/other-ca.crt" -u prometheus:s3cret "$url/metrics")"
    plain=$(status -u prometheus:s3cret "http://127.0.0.1:$port/metrics")
    [ "$plain" != 200 ] && pass "plain HTTP on the TLS port is not served ($plain)" || fail "plain HTTP on the TLS port answered 200"
fi
stop_daemon metrics
DAEMON_PID=

# An endpoint open to other hosts: warned about (check-config reads the same file as run).
write_config "$WORK/open.yaml" "$PG" "$BROKERS" "public.tls_$SFX" "" "metrics:
  listen: 0.0.0.0:$port"
write_config "$WORK/open-auth.yaml" "$PG" "$BROKERS" "public.tls_$SFX" "" "metrics:
  listen: 0.0.0.0:$port
  web_config_file: auth.yml"
out=$("$BIN" check-config --config "$WORK/open.yaml" 2>&1 || true)
grep -q "accepts connections from other hosts without TLS or basic auth" <<<"$out" &&
    pass "0.0.0.0 without TLS or basic auth: warned" || fail "no warning for 0.0.0.0: $out"
out=$("$BIN" check-config --config "$WORK/open-auth.yaml" 2>&1 || true)
grep -q "accepts connections from other hosts without TLS" <<<"$out" &&
    pass "0.0.0.0 with basic auth and no TLS: warned" || fail "no warning for basic auth without TLS: $out"
out=$("$BIN" check-config --config "$WORK/m.yaml" 2>&1 || true)
grep -q "warning" <<<"$out" && fail "a warning for a loopback endpoint: $out" ||
    pass "127.0.0.1: no warning"

SECRETS+=("s3cret")
check_no_secrets "$PKI"
finish
