#!/usr/bin/python3
"""Writes N order lines (JSON objects, one a line) on stdout for
outputs_unchanged.sh: deterministic (seeded), a mix of accepted orders, every
kind of rejection the rules make, odd but valid text, and repeated order ids
(their second publication is a duplicate the processor skips).
Usage: outputs_gen.py N"""
import json
import random
import sys

n = int(sys.argv[1])
rng = random.Random(21)
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CHF"]


def items(count):
    return [{"sku": f"S-{rng.randrange(1000)}", "quantity": rng.randrange(1, 20),
             "unit_price_cents": rng.randrange(1, 100000)} for _ in range(count)]


for i in range(n):
    # The first orders go through every kind once, so that a short run has them all.
    kind = i if i < 8 else rng.randrange(100)
    order = {"order_id": f"E-{i}", "customer_id": f"C-{rng.randrange(5000)}",
             "currency": rng.choice(CURRENCIES), "items": items(rng.randrange(1, 6))}
    if kind == 0:
        order["items"] = []
    elif kind == 1:
        order["items"][0]["quantity"] = 0
    elif kind == 2:
        order["items"][0]["unit_price_cents"] = -5
    elif kind == 3:
        order["currency"] = "eur"
    elif kind == 4:
        order["items"] = [{"sku": "S-1", "quantity": 9223372036854775807, "unit_price_cents": 2}]
    elif kind == 5:
        order["customer_id"] = "Zoë \u00e9\u4e2d\u6587 \"quoted\" \\ back"
    elif kind == 6 and i > 0:
        # The same order id again: a duplicate of an earlier order.
        order["order_id"] = f"E-{rng.randrange(i)}"
    print(json.dumps(order, ensure_ascii=False))
