#!/usr/bin/env bash
# A handler plugin under exactly_once on Kafka: every verdict, the pause, and
# kill -9 mid-stream with retries under way; read_committed, each input has
# exactly one output and there is no raw duplicate
# (tests/e2e/handler_verdicts_e2e.sh).
GUARANTEE=exactly_once exec bash "$(dirname "$0")/../e2e/handler_verdicts_e2e.sh"
