#!/usr/bin/env bash
# Makes a throwaway test PKI with openssl, for the suite's TLS servers and clients (never for
# production): a CA, a server certificate for localhost and 127.0.0.1, client certificates, an
# expired client certificate, and a second CA that signed nothing the servers trust.
#
# Usage: deploy/test-pki.sh DIR
#
# Files in DIR (keys unencrypted PKCS#8, mode 0600; certificates PEM):
#   ca.crt ca.key                  the CA the servers and clients trust
#   server.crt server.key          CN localhost, SAN DNS:localhost, IP:127.0.0.1
#   server.pem                     server.key then server.crt (Kafka's PEM keystore)
#   client.crt client.key          CN pgcs_cert (the PostgreSQL user of `cert` authentication,
#                                  and the Kafka principal User:CN=pgcs_cert of the SSL listener)
#   client.pem                     client.key then client.crt
#   expired.crt expired.key        CN pgcs_cert, valid 2020-01-01 to 2020-01-02 only
#   other-ca.crt other-ca.key      a second CA: trusting it instead of ca.crt must fail
# Running it again when DIR/done exists does nothing (delete DIR for new keys).
set -euo pipefail
prog=$(basename "$0")
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: deploy/test-pki.sh DIR"
command -v openssl >/dev/null || die "openssl not found: install it (deploy/install-deps.sh)"
dir=$1
mkdir -p "$dir"
exec 9>"$dir/.lock"   # tests running side by side make it once
flock -w 60 9 || die "another test-pki.sh holds $dir/.lock"
[ -f "$dir/done" ] && exit 0
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # NAME CN
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.crt" 2>/dev/null
}
# NAME CN EXTENSIONS [openssl x509 validity options...]
leaf() {
    local name=$1 cn=$2 ext=$3
    shift 3
    key "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
    printf '%s\n' "$ext" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
        -extfile "$name.ext" "$@" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

ca ca "pgchangeset test CA"
ca other-ca "pgchangeset other test CA"
leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth" -days 3650
leaf client pgcs_cert "extendedKeyUsage=clientAuth" -days 3650
# An expired certificate: `openssl ca` is the one tool of OpenSSL 3.0 that sets past dates.
key expired.key
openssl req -new -key expired.key -subj "/CN=pgcs_cert" -out expired.csr 2>/dev/null
mkdir -p ca.db
: > ca.db/index.txt
printf '1000\n' > ca.db/serial
cat > ca.db/ca.cnf <<EOF
[ca]
default_ca = test
[test]
database = ca.db/index.txt
serial = ca.db/serial
new_certs_dir = ca.db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
EOF
openssl ca -batch -config ca.db/ca.cnf -cert ca.crt -keyfile ca.key -notext \
    -startdate 20200101000000Z -enddate 20200102000000Z -in expired.csr -out expired.crt \
    2>/dev/null || die "openssl ca could not sign the expired certificate"
rm -rf expired.csr ca.db ca.srl
cat server.key server.crt > server.pem
cat client.key client.crt > client.pem
chmod 0600 ./*.key ./*.pem
chmod 0644 ./*.crt
touch done
