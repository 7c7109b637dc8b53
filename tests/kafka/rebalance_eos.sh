#!/usr/bin/env bash
# tests/e2e/rebalance_e2e.sh with exactly_once: a member joining under
# transactions pauses only the partitions that move, and read_committed
# readers see each event once (aborted records are hidden only by a real
# Kafka, not by the mock).
GUARANTEE=exactly_once exec bash "$(dirname "$0")/../e2e/rebalance_e2e.sh"
