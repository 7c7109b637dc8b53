#!/usr/bin/env bash
# orderflow-gateway's bearer tokens and TLS (docs/gateway.md, "Security"):
# without a known token 401 + WWW-Authenticate: Bearer (probes stay open),
# with one 202; the token never printed, not even with -v. Over HTTPS with a
# self-signed certificate made here: 202 for a client that trusts it, and
# no plain HTTP on that port.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not found" >&2; exit 77; }
ORDER='{"order_id":"S-1","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":1,"unit_price_cents":5}]}'
TOKEN=s3cret-token-0123456789

start_broker
printf 'gateway: { tokens = [ "other-token", "%s" ]; };\n' "$TOKEN" >"$WORK/auth.conf"
start_gateway auth -c "$WORK/auth.conf" -v
post() { # post URL [curl args]: prints the status, headers into $WORK/h, body into $WORK/b
  local url=$1
  shift
  curl -s -m 10 -o "$WORK/b" -D "$WORK/h" -w '%{http_code}' "$url" \
    -H 'Content-Type: application/json' -H 'Idempotency-Key: "s-1"' -d "$ORDER" "$@" || true
}
s=$(post "http://$GATEWAY/orders")
[ "$s" = 401 ] || fail "no token: $s $(cat "$WORK/b")"
grep -qi '^WWW-Authenticate: Bearer' "$WORK/h" || fail "401 without WWW-Authenticate: $(cat "$WORK/h")"
grep -q '"type":"urn:orderflow:problem:unauthorized"' "$WORK/b" || fail "401 body $(cat "$WORK/b")"
s=$(post "http://$GATEWAY/orders" -H "Authorization: Bearer ${TOKEN}x")
[ "$s" = 401 ] || fail "wrong token: $s"
s=$(post "http://$GATEWAY/orders" -H "Authorization: Bearer ${TOKEN:0:5}")
[ "$s" = 401 ] || fail "token prefix: $s"
s=$(post "http://$GATEWAY/orders" -H "Authorization: Bearer $TOKEN")
[ "$s" = 202 ] || fail "right token: $s $(cat "$WORK/b")"
[ "$(http_get "$GATEWAY" /healthz "$WORK/health")" = 200 ] || fail "/healthz needs no token"
if grep -q "$TOKEN" "$WORK/auth.err"; then fail "the token was printed: $(cat "$WORK/auth.err")"; fi
grep -q 'tokens = \[ "\[redacted\]", "\[redacted\]" \];' "$WORK/auth.err" ||
  fail "-v does not show the tokens redacted: $(cat "$WORK/auth.err")"

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -days 1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>"$WORK/openssl.err" ||
  fail "openssl: $(cat "$WORK/openssl.err")"
printf 'gateway: { tls_cert = "%s"; tls_key = "%s"; };\n' "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/tls.conf"
start_gateway tls -c "$WORK/tls.conf"
s=$(post "https://$GATEWAY/orders" --cacert "$WORK/cert.pem")
[ "$s" = 202 ] || fail "https: $s $(cat "$WORK/b")"
grep -q '"order_id":"S-1"' "$WORK/b" || fail "https body $(cat "$WORK/b")"
s=$(post "http://$GATEWAY/orders")
[ "$s" != 202 ] || fail "plain HTTP answered 202 on the TLS port"
echo ok
