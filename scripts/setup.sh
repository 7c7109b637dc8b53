#!/usr/bin/env bash
# Installs the Debian 12 packages a purpose needs (when missing), then
# configures and builds into BUILD_DIR (default: build).
#
#   scripts/setup.sh [--for demo|tests|bench] [MESON_SETUP_ARGS...]
#   scripts/setup.sh --list [demo|tests|bench]     the packages, one a line
#
# demo (the default): building, scripts/demo.sh and README's "By hand";
# tests: also what scripts/test.sh's suites run (Python checks, promtool, jq);
# bench: also bench/run's load generator and peers (wrk, gunicorn, Flask).
# Extra arguments go to `meson setup` (e.g. -Db_sanitize=address,undefined -Dwerror=true).
set -euo pipefail
cd "$(dirname "$0")/.."

# The compiler, build tools and libraries (check: the unit tests' framework,
# which the default configuration builds).
build_packages=(gcc meson ninja-build pkg-config librdkafka-dev libyajl-dev libconfig-dev
                libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev check)
# scripts/demo.sh and README's "By hand": kcat writes the poison records,
# python3 and ss pick a free port when 9092 is taken.
demo_packages=(kcat python3 iproute2)
# The test suites: Python checks against the broker and the schemas,
# promtool for the alert rules, jq, curl, and /usr/bin/time, ps.
tests_packages=(jq python3-jsonschema python3-confluent-kafka python3-yaml procps time
                prometheus curl)
# bench/run: the HTTP load generator and the Flask peer behind gunicorn.
bench_packages=(wrk gunicorn python3-flask python3-requests)

packages_for() {
  case $1 in
    demo) echo "${build_packages[@]}" "${demo_packages[@]}" ;;
    tests) echo "${build_packages[@]}" "${demo_packages[@]}" "${tests_packages[@]}" ;;
    bench) echo "${build_packages[@]}" "${demo_packages[@]}" "${tests_packages[@]}" \
      "${bench_packages[@]}" ;;
    *) echo "setup: unknown purpose '$1' (expected demo, tests or bench)" >&2; return 64 ;;
  esac
}

purpose=demo
if [ "${1:-}" = --list ]; then
  packages_for "${2:-demo}" | tr ' ' '\n'
  exit
fi
if [ "${1:-}" = --for ]; then
  purpose=${2:?setup: --for needs demo, tests or bench}
  shift 2
fi
package_list=$(packages_for "$purpose") || exit 64
read -r -a packages <<<"$package_list"

build_dir=${BUILD_DIR:-build}
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (for $purpose)" >&2
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
