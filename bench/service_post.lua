-- wrk script for the order service's own capacity (bench/sections/http.py):
-- the POST orderflow's HTTP handler sends (CloudEvents binary mode), one
-- order, a fresh ce-id and Idempotency-Key per request.
--   wrk -t 2 -c 64 -d 5 -s bench/service_post.lua http://127.0.0.1:PORT/orders
local counter = 0
wrk.method = "POST"
wrk.body = '{"order_id":"A-1","customer_id":"C-1","currency":"EUR",' ..
  '"items":[{"sku":"S-1","quantity":2,"unit_price_cents":1999}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-type"] = "order_created"
wrk.headers["ce-source"] = "wrk"
wrk.headers["ce-subject"] = "A-1"
wrk.headers["orderflow-attempt"] = "1"

function request()
  counter = counter + 1
  wrk.headers["ce-id"] = "wrk-" .. counter
  wrk.headers["Idempotency-Key"] = "order_created:A-1#" .. counter
  return wrk.format()
end
