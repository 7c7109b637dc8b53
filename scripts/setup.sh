#!/usr/bin/env bash
# Installs the Debian 12 packages orderflow needs (when missing), then
# configures and builds into BUILD_DIR (default: build). Extra arguments go to
# `meson setup` (e.g. -Db_sanitize=address,undefined -Dwerror=true).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
packages=(gcc meson ninja-build pkg-config librdkafka-dev libyajl-dev libconfig-dev check
          kcat jq python3 python3-jsonschema python3-confluent-kafka python3-yaml iproute2 procps time
          libmicrohttpd-dev libgnutls28-dev prometheus curl wrk gunicorn python3-flask)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" "$@" >/dev/null
elif [ $# -gt 0 ]; then
  meson configure "$build_dir" "$@" >/dev/null
fi
ninja -C "$build_dir" >/dev/null
echo "setup: built into $build_dir" >&2
