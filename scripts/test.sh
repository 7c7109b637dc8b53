#!/usr/bin/env bash
# Sets up (packages, build) and runs every test: unit, integration, end-to-end.
# Offline, no external broker. Extra arguments go to `meson setup`.
#
#   scripts/test.sh [--kafka] [MESON_SETUP_ARGS...]
#
# --kafka runs the `kafka` suite instead: the real binaries against real
# Apache Kafka 3.9 (scripts/kafka.sh), after installing a JRE and Maven when
# missing and fetching Kafka's jars once (tests/kafka/meson.build).
set -euo pipefail
cd "$(dirname "$0")/.."
kafka=0
if [ "${1:-}" = --kafka ]; then
  kafka=1
  shift
fi
bash scripts/setup.sh --for tests "$@"
if [ $kafka = 0 ]; then
  exec meson test -C "${BUILD_DIR:-build}" --print-errorlogs --num-processes 2
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  echo "test: installing openjdk-17-jre-headless maven (the real-Kafka suite)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless maven >/dev/null
fi
bash scripts/kafka.sh fetch >/dev/null
# One test at a time: each runs its own Kafka JVM(s) on these two cores.
exec meson test -C "${BUILD_DIR:-build}" --suite kafka --print-errorlogs --num-processes 1 \
  --logbase kafkalog
