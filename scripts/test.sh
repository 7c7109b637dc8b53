#!/usr/bin/env bash
# Sets up (packages, build) and runs every test: unit, integration, end-to-end.
# Offline, no external broker. Extra arguments go to `meson setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "$@"
exec meson test -C "${BUILD_DIR:-build}" --print-errorlogs --num-processes 2
