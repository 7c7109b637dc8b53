#!/usr/bin/env bash
# The HTTP handler under exactly_once on Kafka, with the order service killed
# and restarted twice (the breaker opens and closes) and the processor killed
# with kill -9: read_committed, one output per input, no raw duplicate
# (tests/http/http_breaker_e2e.sh).
GUARANTEE=exactly_once exec bash "$(dirname "$0")/../http/http_breaker_e2e.sh"
