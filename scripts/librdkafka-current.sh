#!/usr/bin/env bash
# Runs a command with the current librdkafka instead of the system's 2.0.2:
# orderflow is built against Debian 12's librdkafka headers and runs against
# either (librdkafka keeps its ABI; docs/operations.md, "librdkafka
# versions").
#
#   scripts/librdkafka-current.sh CMD [ARGS...]   run CMD with it (LD_LIBRARY_PATH)
#   scripts/librdkafka-current.sh --dir           print the directory holding librdkafka.so.1
#   scripts/librdkafka-current.sh --fetch         fetch the newest release even if one is cached
#   scripts/librdkafka-current.sh --help
#
# "Current" is the librdkafka the newest `confluent-kafka` wheel on PyPI
# bundles (a self-contained librdkafka*.so.1 in confluent_kafka.libs/). The
# first run downloads the wheel with pip into a cache outside the repository
# (ORDERFLOW_LIBRDKAFKA_CACHE, default ~/.cache/orderflow) as
# librdkafka-VERSION/lib/librdkafka.so.1, named by the version the library
# itself reports; later runs use the newest version cached and work offline.
# ORDERFLOW_LIBRDKAFKA_WHEEL=X.Y.Z asks for that confluent-kafka release.
# Every child process (the orderflow executables, kcat, the tests' Python
# confluent_kafka helpers) loads that librdkafka; `-V` of an orderflow
# executable prints the version actually loaded.
set -euo pipefail

PY=/usr/bin/python3
CACHE=${ORDERFLOW_LIBRDKAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orderflow}
WHEEL_VERSION=${ORDERFLOW_LIBRDKAFKA_WHEEL:-}

die() {
  echo "librdkafka-current.sh: $*" >&2
  exit "${EXIT_STATUS:-1}"
}

usage() {
  sed -n '/^#   scripts/s/^#   //p' "$0"
}

# The version a librdkafka shared object reports (rd_kafka_version_str()).
library_version() {
  "$PY" -c 'import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.rd_kafka_version_str.restype = ctypes.c_char_p
print(lib.rd_kafka_version_str().decode())' "$1"
}

# The newest librdkafka-X.Y.Z in the cache holding a complete library.
newest_cached() {
  local d best=""
  for d in "$CACHE"/librdkafka-*/; do
    [ -f "$d.complete" ] || continue
    d=${d%/}
    best+="${d##*/librdkafka-}"$'\n'
  done
  [ -n "$best" ] || return 1
  printf '%s' "$best" | sort -V | tail -1
}

fetch() {
  local wheel so version spec=confluent-kafka
  command -v "$PY" >/dev/null || EXIT_STATUS=69 die "$PY not found"
  "$PY" -m pip --version >/dev/null 2>&1 ||
    EXIT_STATUS=69 die "pip not found for $PY (apt-get install python3-pip)"
  [ -z "$WHEEL_VERSION" ] || spec="confluent-kafka==$WHEEL_VERSION"
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/librdkafka-fetch.XXXXXX") # global: the EXIT trap removes it
  trap 'rm -rf "$tmp"' EXIT
  echo "librdkafka-current.sh: downloading the $spec wheel from PyPI (once)" >&2
  # The manylinux wheel for this machine's Python: only its bundled
  # librdkafka is used, so any Python version's wheel would do.
  "$PY" -m pip download -q --no-deps --only-binary :all: -d "$tmp" "$spec" >"$tmp/pip.log" 2>&1 ||
    EXIT_STATUS=69 die "pip download $spec failed (PyPI unreachable?): $(tail -3 "$tmp/pip.log")"
  wheel=$(ls "$tmp"/confluent_kafka-*.whl 2>/dev/null | head -1)
  [ -n "$wheel" ] || die "pip download $spec fetched no confluent_kafka wheel"
  "$PY" - "$wheel" "$tmp/unpacked" <<'PY' || die "$wheel: no confluent_kafka.libs/librdkafka*.so.1 in it"
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith("confluent_kafka.libs/librdkafka")]
    if not names:
        sys.exit(1)
    for n in names:
        z.extract(n, out)
PY
  so=$(ls "$tmp"/unpacked/confluent_kafka.libs/librdkafka*.so.1 | head -1)
  version=$(library_version "$so") || die "$so does not load: not a librdkafka for this machine"
  if [ -f "$CACHE/librdkafka-$version/.complete" ]; then
    echo "$CACHE/librdkafka-$version/lib"
    return 0
  fi
  mkdir -p "$tmp/librdkafka-$version/lib"
  # Our executables ask for librdkafka.so.1 (their DT_NEEDED); the wheel's
  # file carries a hashed soname, which the loader does not check.
  mv "$so" "$tmp/librdkafka-$version/lib/librdkafka.so.1"
  printf 'wheel=%s\n' "${wheel##*/}" >"$tmp/librdkafka-$version/source"
  touch "$tmp/librdkafka-$version/.complete"
  rm -rf "$CACHE/librdkafka-$version"
  mv "$tmp/librdkafka-$version" "$CACHE/librdkafka-$version"
  echo "librdkafka-current.sh: librdkafka $version in $CACHE/librdkafka-$version" >&2
  echo "$CACHE/librdkafka-$version/lib"
}

library_dir() {
  local version
  if [ -n "$WHEEL_VERSION" ] || ! version=$(newest_cached); then
    fetch
    return
  fi
  echo "$CACHE/librdkafka-$version/lib"
}

case ${1:-} in
  "" | -h | --help)
    usage
    [ -n "${1:-}" ] || exit 64
    exit 0
    ;;
  --dir)
    library_dir
    ;;
  --fetch)
    fetch
    ;;
  -*)
    EXIT_STATUS=64 die "unknown option $1 (--dir, --fetch, --help, or a command to run)"
    ;;
  *)
    lib=$(library_dir)
    export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    exec "$@"
    ;;
esac
