-- wrk script for the gateway benchmark (bench/run): every request is a new
-- order with its own Idempotency-Key, so each one publishes an event.
--
--   wrk -t T -c C -d D -s bench/gateway_post.lua URL -- RUN [RATE T]
--
-- RUN keeps runs' order ids apart. RATE (requests/s in all) and T (wrk's
-- thread count) pace the load: Debian's wrk 4.1 has no fixed-rate mode (that
-- is wrk2), so each thread sends its k-th request no earlier than k * T / RATE
-- seconds after its first, through wrk's delay() hook and LuaJIT's
-- clock_gettime. Latency is then the service time of each request at that
-- offered rate; bench/run checks the achieved rate. Without RATE: as fast as
-- the server answers.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } of_timespec;
  int clock_gettime(int clk_id, of_timespec *tp);
]]
local ts = ffi.new("of_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads_set_up = 0
function setup(thread)
  threads_set_up = threads_set_up + 1
  thread:set("thread_number", threads_set_up)
end

local run, interval_ms, counter, start_ms
function init(args)
  run = args[1] or "r"
  local rate = tonumber(args[2] or "0")
  local thread_count = tonumber(args[3] or "1")
  interval_ms = rate > 0 and 1000.0 * thread_count / rate or 0
  counter = 0
end

-- wrk calls delay() before each request of a connection; the connections of
-- a thread share its schedule, one slot per request.
local sent = 0
function delay()
  if interval_ms == 0 then return 0 end
  if not start_ms then start_ms = now_ms() end
  sent = sent + 1
  local due = start_ms + sent * interval_ms
  local wait = due - now_ms()
  return wait > 0 and wait or 0
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", run, thread_number, counter)
  local body = '{"order_id":"W' .. id .. '","customer_id":"C-42","currency":"EUR",' ..
               '"items":[{"sku":"SKU-1","quantity":2,"unit_price_cents":1999}]}'
  return wrk.format("POST", "/orders", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = '"' .. id .. '"',
  }, body)
end

function done(summary, latency, requests)
  -- One line of JSON for bench/run: latencies in microseconds.
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
