#!/usr/bin/env bash
# orderflow-gateway drops slow clients (docs/gateway.md, "Security"): with
# gateway.client_timeout_s = 2, a client sending its headers, or its body,
# one byte a second is disconnected within a few seconds of the bound,
# while a long poll (?wait=4, its request whole) is answered, not cut.
source "$(dirname "$0")/lib.sh"

start_broker
printf 'gateway: { client_timeout_s = 2; };\n' >"$WORK/gw.conf"
start_gateway gw -c "$WORK/gw.conf"
"$PY" - "$GATEWAY" <<'PY' || fail "slow clients"
import http.client, json, socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)

def trickle(head, body=b""):
    """Sends head (and body) one byte a second; returns when the gateway
    closed the connection and how many bytes it took."""
    s = socket.create_connection((host, port), timeout=10)
    t0 = time.monotonic()
    data = head + body
    sent = 0
    try:
        for i, b in enumerate(data):
            s.sendall(bytes([b]))
            sent += 1
            # the gateway may close any time: a read that returns ends it
            s.settimeout(1.0)
            try:
                if s.recv(4096) == b"":
                    break
            except socket.timeout:
                pass
            if time.monotonic() - t0 > 12:
                sys.exit("FAIL: still connected after 12 s")
    except (BrokenPipeError, ConnectionResetError):
        pass
    took = time.monotonic() - t0
    s.close()
    return took, sent

head = b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: k\r\n"
took, sent = trickle(head + b"Content-Length: 5\r\n\r\n")
if not (1.5 < took < 6) or sent >= len(head):
    sys.exit(f"FAIL: slow headers: closed after {took:.1f} s, {sent} bytes sent")
print(f"slow headers closed after {took:.1f} s")

# The body: headers at once, then a byte a second.
s = socket.create_connection((host, port), timeout=10)
s.sendall(head + b"Content-Length: 100\r\n\r\n")
t0 = time.monotonic()
closed = None
for i in range(12):
    try:
        s.sendall(b"x")
        s.settimeout(1.0)
        if s.recv(4096) == b"":
            closed = time.monotonic() - t0
            break
    except socket.timeout:
        continue
    except (BrokenPipeError, ConnectionResetError):
        closed = time.monotonic() - t0
        break
s.close()
if closed is None or not (1.0 < closed < 6):
    sys.exit(f"FAIL: slow body: closed after {closed}")
print(f"slow body closed after {closed:.1f} s")

# A long poll outlives client_timeout_s: its request is whole.
order = json.dumps({"order_id": "L-1", "customer_id": "C", "currency": "EUR",
                    "items": [{"sku": "S", "quantity": 1, "unit_price_cents": 1}]})
c = http.client.HTTPConnection(host, port, timeout=15)
c.request("POST", "/orders", order, {"Content-Type": "application/json", "Idempotency-Key": "l-1"})
r = c.getresponse(); r.read()
if r.status != 202:
    sys.exit(f"FAIL: POST {r.status}")
c = http.client.HTTPConnection(host, port, timeout=15)
t0 = time.monotonic()
c.request("GET", "/orders/L-1?wait=4")
r = c.getresponse(); body = json.loads(r.read())
took = time.monotonic() - t0
if r.status != 200 or body["status"] != "pending" or not (3.5 < took < 8):
    sys.exit(f"FAIL: long poll: {r.status} {body} after {took:.1f} s")
print(f"long poll answered after {took:.1f} s")
PY
echo ok
