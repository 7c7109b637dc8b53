#!/usr/bin/env bash
# Installs the build under test into a temporary DESTDIR
# (meson install --destdir TMP --no-rebuild) and checks what a packager or a
# library user gets: the three executables (which run), liborderflow.so with
# its soname links, every public header under include/orderflow/, the
# orderflow.pc file, the man pages (which render) and orderflow.conf.example.
# Then builds a small C program against the installed library through
# pkg-config alone and runs it, asserting its output; and builds the example
# handler plugins (examples/handlers, docs/handlers.md) the same way, out of
# tree, runs them through try-handler and loads one into the installed
# orderflow-consumer.
#
# Usage: install_test.sh BUILD_DIR SOURCE_ROOT
# Exit: 0 pass, 1 fail, 77 skip (no C compiler or pkg-config).
set -euo pipefail

BUILD=$(cd "${1:?usage: install_test.sh BUILD_DIR SOURCE_ROOT}" && pwd)
SRC=$(cd "${2:?usage: install_test.sh BUILD_DIR SOURCE_ROOT}" && pwd)
PY=/usr/bin/python3
CC=${CC:-cc}
for tool in "$CC" pkg-config meson; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found" >&2; exit 77; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEST=$WORK/dest

checks=0
ok() {
  checks=$((checks + 1))
  echo "ok $checks - $*"
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The directories this build installs into, from its own configuration.
version=$(meson introspect "$BUILD" --projectinfo | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["version"])')
{ read -r prefix; read -r bindir; read -r libdir; read -r includedir; read -r datadir
  read -r mandir; read -r b_sanitize; } < <(meson introspect "$BUILD" --buildoptions | "$PY" -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for name in ("prefix", "bindir", "libdir", "includedir", "datadir", "mandir", "b_sanitize"):
    print(opts[name])
')
[ -n "$b_sanitize" ] || fail "cannot read the install directories of $BUILD"
under() { # under DIR: DIR of the install tree (absolute options stay absolute)
  case $1 in /*) echo "$DEST$1" ;; *) echo "$DEST$prefix/$1" ;; esac
}
BIN=$(under "$bindir")
LIB=$(under "$libdir")
INC=$(under "$includedir")
MAN=$(under "$mandir")
DOC=$(under "$datadir")/doc/orderflow

meson install -C "$BUILD" --destdir "$DEST" --no-rebuild >"$WORK/install.log" 2>&1 ||
  { tail -n 20 "$WORK/install.log" >&2; fail "meson install failed"; }
ok "meson install --destdir into $DEST"

# Executables: installed, executable, and they run against the installed library.
for exe in orderflow-producer orderflow-consumer orderflow-broker; do
  [ -x "$BIN/$exe" ] || fail "$bindir/$exe not installed"
  said=$(LD_LIBRARY_PATH=$LIB "$BIN/$exe" --version) || fail "$exe --version failed"
  case $said in
    "$exe $version "*) ;;
    *) fail "$exe --version printed '$said', expected '$exe $version ...'" ;;
  esac
  ldd_line=$(LD_LIBRARY_PATH=$LIB ldd "$BIN/$exe" | grep 'liborderflow' || true)
  case $exe:$ldd_line in
    orderflow-broker:) ;; # the broker needs only librdkafka
    orderflow-broker:*) fail "orderflow-broker loads liborderflow, which it does not use: '$ldd_line'" ;;
    *:*"$LIB/liborderflow.so.0"*) ;;
    *) fail "$exe does not load the installed liborderflow: '$ldd_line'" ;;
  esac
done
ok "orderflow-producer, orderflow-consumer, orderflow-broker installed in $bindir and run"

# The library: real file, soname link, development link.
[ -f "$LIB/liborderflow.so.$version" ] || fail "liborderflow.so.$version not in $libdir"
[ "$(readlink "$LIB/liborderflow.so.0")" = "liborderflow.so.$version" ] || fail "liborderflow.so.0 link"
[ "$(readlink "$LIB/liborderflow.so")" = liborderflow.so.0 ] || fail "liborderflow.so link"
soname=$(objdump -p "$LIB/liborderflow.so.$version" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = liborderflow.so.0 ] || fail "SONAME is '$soname'"
ok "liborderflow.so -> .so.0 -> .so.$version in $libdir, SONAME liborderflow.so.0"

# Every public header of the source tree (version.h as meson generated it
# from version.h.in), and nothing else.
want=$(find "$SRC/lib/orderflow" -maxdepth 1 \( -name '*.h' -o -name '*.h.in' \) -printf '%f\n' |
  sed 's/\.in$//' | sort)
have=$(find "$INC/orderflow" -maxdepth 1 -name '*.h' -printf '%f\n' 2>/dev/null | sort)
[ "$want" = "$have" ] ||
  fail "headers in $includedir/orderflow: [$(tr '\n' ' ' <<<"$have")], expected [$(tr '\n' ' ' <<<"$want")]"
for h in $want; do
  source_header=$SRC/lib/orderflow/$h
  [ -f "$source_header" ] || source_header=$BUILD/lib/orderflow/$h
  cmp -s "$source_header" "$INC/orderflow/$h" || fail "$h differs from the source"
done
ok "all $(echo "$want" | wc -l) public headers in $includedir/orderflow"

PC=$LIB/pkgconfig/orderflow.pc
[ -f "$PC" ] || fail "orderflow.pc not in $libdir/pkgconfig"
grep -qx "Version: $version" "$PC" || fail "orderflow.pc: no 'Version: $version'"
ok "orderflow.pc in $libdir/pkgconfig"

for page in orderflow-producer orderflow-consumer orderflow-broker orderflow-gateway; do
  f=$MAN/man1/$page.1
  [ -f "$f" ] || fail "$mandir/man1/$page.1 not installed"
  grep -q "^\.TH .*\"orderflow $version\"" "$f" || fail "$page.1: .TH does not say orderflow $version"
  if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
    [ -z "$warnings" ] || fail "$page.1: groff warnings: $warnings"
    text=$(groff -man -Tutf8 -P-c "$f" 2>/dev/null | sed 's/.\x08//g')
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
      grep -q "^$section\$" <<<"$text" || fail "$page.1 renders without a $section section"
    done
    grep -Eq "^ *$page +- " <<<"$text" || fail "$page.1: NAME line does not start with '$page - '"
  fi
done
ok "man pages in $mandir/man1, for orderflow $version, each rendering with all sections"

[ -f "$DOC/orderflow.conf.example" ] || fail "orderflow.conf.example not in $datadir/doc/orderflow"
cmp -s "$SRC/orderflow.conf.example" "$DOC/orderflow.conf.example" || fail "orderflow.conf.example differs"
ok "orderflow.conf.example in $datadir/doc/orderflow"

# A library user: pkg-config alone finds headers and library in the install tree.
export PKG_CONFIG_PATH=$LIB/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST
cflags=$(pkg-config --cflags orderflow) || fail "pkg-config --cflags orderflow"
libs=$(pkg-config --libs orderflow) || fail "pkg-config --libs orderflow"
case " $cflags " in *" -I$INC "*) ;; *) fail "pkg-config cflags '$cflags' lack -I$INC" ;; esac
case " $libs " in *" -L$LIB "*) ;; *) fail "pkg-config libs '$libs' lack -L$LIB" ;; esac
sanitize=()
[ "$b_sanitize" = none ] || sanitize=(-fsanitize="$b_sanitize")
cat >"$WORK/user.c" <<'C'
#include <stdio.h>
#include <string.h>

/* Every public header, so each must be installed and self-contained. */
#include <orderflow/dedup.h>
#include <orderflow/envelope.h>
#include <orderflow/export.h>
#include <orderflow/handler.h>
#include <orderflow/ids.h>
#include <orderflow/limits.h>
#include <orderflow/processing.h>
#include <orderflow/version.h>

int main(void)
{
    printf("version %s %d.%d.%d %d\n", of_version_str(), OF_VERSION_MAJOR, OF_VERSION_MINOR,
           OF_VERSION_PATCH, of_version() == OF_VERSION);
    of_limits limits;
    of_limits_init(&limits);
    printf("limits %zu %u %zu %zu\n", limits.max_record_bytes, limits.max_depth,
           limits.max_string_bytes, limits.max_items);

    char err[160] = "";
    int good = of_idempotency_key_check(of_str_c("order_created:A-1001"), err, sizeof(err));
    int bad = of_idempotency_key_check(of_str_c("tab\there"), err, sizeof(err));
    printf("check %d %d %s\n", good, bad, err);

    char key[OF_IDEMPOTENCY_KEY_MAX + 1];
    size_t n = of_idempotency_key_derive("order_created:", of_str_c("A-1001"), key);
    printf("derive %zu %s\n", n, key);
    char long_id[400];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    n = of_idempotency_key_derive("order_created:", of_str_c(long_id), key);
    printf("derive-long %zu %d %c\n", n, of_idempotency_key_check((of_str){key, n}, NULL, 0),
           key[n - 17]);

    char time[OF_TIME_LEN + 1];
    of_format_time(UINT64_C(1795521600123), time);
    printf("time %s %d\n", time, of_time_valid(of_str_c(time)));
    return 0;
}
C
# shellcheck disable=SC2086 # pkg-config output is a list of words
"$CC" -std=c11 -Wall -Werror "${sanitize[@]}" $cflags "$WORK/user.c" -o "$WORK/user" $libs ||
  fail "cannot build a program against the installed library"
ok "a C program builds with \$(pkg-config --cflags --libs orderflow) only"

out=$(LD_LIBRARY_PATH=$LIB "$WORK/user") || fail "the program failed to run"
expected="version $version $version 1
"'limits 1048576 32 65536 10000
check 0 -1 idempotency key byte 0x09 at offset 3 is not printable ASCII
derive 20 order_created:A-1001
derive-long 256 0 ~
time 2026-11-24T12:00:00.123Z 1'
if [ "$out" != "$expected" ]; then
  diff <(echo "$expected") <(echo "$out") >&2 || true
  fail "the program's output differs (expected above, got below)"
fi
LD_LIBRARY_PATH=$LIB ldd "$WORK/user" | grep "$LIB/liborderflow.so.0" >/dev/null ||
  fail "the program did not load the installed liborderflow"
ok "it runs against the installed liborderflow.so.0 and gets its version, the documented defaults and key rules"

# Handler plugins built out of tree as docs/handlers.md says, with the
# installed <orderflow/handler.h> and pkg-config alone.
for plugin in tax scorer rules_plugin; do
  # shellcheck disable=SC2086
  "$CC" -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden "${sanitize[@]}" $cflags \
    "$SRC/examples/handlers/$plugin.c" -o "$WORK/$plugin.so" $libs ||
    fail "cannot build examples/handlers/$plugin.c as a plugin against the installed library"
  nm -D --defined-only "$WORK/$plugin.so" | grep -q ' T of_handler_entry$' ||
    fail "$plugin.so does not export of_handler_entry"
done
# shellcheck disable=SC2086
"$CC" -std=c11 -D_GNU_SOURCE -Wall -Werror "${sanitize[@]}" $cflags "$SRC/examples/handlers/try_handler.c" \
  -o "$WORK/try-handler" $libs -ldl || fail "cannot build examples/handlers/try_handler.c"
ok "tax.so, scorer.so, rules_plugin.so and try-handler build out of tree with pkg-config orderflow"

envelope() { # envelope ORDER_ID CUSTOMER CURRENCY QUANTITY UNIT_PRICE_CENTS
  printf '{"specversion":"1.0","id":"0190b3c4-5e6f-7a1b-8c2d-3e4f5a6b7c8d","source":"orderflow-producer","type":"order_created","time":"2026-11-24T12:00:00.123Z","datacontenttype":"application/json","idempotencykey":"order:%s","subject":"%s","schemaversion":1,"data":{"order_id":"%s","customer_id":"%s","currency":"%s","items":[{"sku":"SKU-1","quantity":%s,"unit_price_cents":%s}]}}\n' \
    "$1" "$1" "$1" "$2" "$3" "$4" "$5"
}
{ envelope A-1 C-1 EUR 2 1999; envelope A-2 C-1 JPY 1 500; envelope A-3 C-1 EUR 0 5; } >"$WORK/orders.jsonl"
out=$(LD_LIBRARY_PATH=$LIB "$WORK/try-handler" "$WORK/tax.so" EUR=19 <"$WORK/orders.jsonl") ||
  fail "try-handler tax.so failed"
expected='emit	{"order_id":"A-1","customer_id":"C-1","currency":"EUR","item_count":1,"quantity_total":2,"total_cents":3998,"status":"accepted","tax_rate_bp":1900,"tax_cents":760,"total_with_tax_cents":4758}
dead_letter	no tax rate for currency JPY
reject	{"order_id":"A-3","customer_id":"C-1","currency":"EUR","item_count":1,"quantity_total":0,"total_cents":0,"status":"rejected","reason":"item 1 (SKU-1): quantity 0 is below 1"}'
[ "$out" = "$expected" ] || { diff <(echo "$expected") <(echo "$out") >&2 || true; fail "tax.so's verdicts differ"; }
{ envelope B-1 C-7 EUR 500 100; envelope B-2 C-13 EUR 1 100; envelope B-3 C-7 EUR 1 100; } >"$WORK/scored.jsonl"
out=$(LD_LIBRARY_PATH=$LIB "$WORK/try-handler" "$WORK/scorer.so" blocked_customers=C-13 unavailable_attempts=1 <"$WORK/scored.jsonl") ||
  fail "try-handler scorer.so failed"
expected='retry	scoring service unavailable (attempt 1, delay 100 ms)
emit	{"order_id":"B-1","customer_id":"C-7","currency":"EUR","item_count":1,"quantity_total":500,"total_cents":50000,"status":"accepted","risk_score":40,"risk_signals":["quantity"]}
retry	scoring service unavailable (attempt 1, delay 100 ms)
dead_letter	risk score 100 >= 80: blocked_customer
retry	scoring service unavailable (attempt 1, delay 100 ms)
emit	{"order_id":"B-3","customer_id":"C-7","currency":"EUR","item_count":1,"quantity_total":1,"total_cents":100,"status":"accepted","risk_score":0,"risk_signals":[]}'
[ "$out" = "$expected" ] || { diff <(echo "$expected") <(echo "$out") >&2 || true; fail "scorer.so's verdicts differ"; }
out=$(LD_LIBRARY_PATH=$LIB "$WORK/try-handler" "$WORK/rules_plugin.so" <"$WORK/orders.jsonl") ||
  fail "try-handler rules_plugin.so failed"
[ "$(cut -f1 <<<"$out" | tr '\n' ' ')" = "emit emit reject " ] || fail "rules_plugin.so's verdicts: $out"
ok "each out-of-tree plugin gives its documented verdicts and data (emit, reject, dead_letter, retry)"

# The plugin of docs/handlers.md, "Building a plugin", built with the
# documented command line and run on the documented orders.
awk '/^```c$/ { inside = 1; n++; next } /^```$/ { inside = 0 } inside && n == 1' \
  "$SRC/docs/handlers.md" >"$WORK/min_total.c"
grep -q '^OF_HANDLER_DEFINE_ENTRY(descriptor)$' "$WORK/min_total.c" ||
  fail "no plugin found in the first C block of docs/handlers.md"
# shellcheck disable=SC2086
(cd "$WORK" && "$CC" -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden "${sanitize[@]}" \
  $cflags min_total.c -o min_total.so $libs) || fail "docs/handlers.md's plugin does not build as documented"
{ envelope A-1 C-1 EUR 3 1999; envelope A-2 C-1 EUR 2 1999; } >"$WORK/documented.jsonl"
out=$(LD_LIBRARY_PATH=$LIB "$WORK/try-handler" "$WORK/min_total.so" min_total_cents=5000 <"$WORK/documented.jsonl") ||
  fail "try-handler min_total.so failed"
expected=$(sed -n '/^try-handler .\/min_total.so/,/^```$/p' "$SRC/docs/handlers.md" | sed '1d;$d')
[ -n "$expected" ] && [ "$out" = "$expected" ] ||
  { diff <(echo "$expected") <(echo "$out") >&2 || true; fail "docs/handlers.md's plugin output differs from the documented one"; }
ok "the plugin of docs/handlers.md builds as documented and prints the documented verdicts"

# The installed processor loads the out-of-tree plugin, checks its ABI and
# calls its open with --handler-arg (which refuses the rate): exit 78 before
# any broker is asked.
set +e
said=$(LD_LIBRARY_PATH=$LIB timeout 20 "$BIN/orderflow-consumer" process -q -b 127.0.0.1:9 \
  --handler "$WORK/tax.so" --handler-arg EUR=high 2>&1)
status=$?
set -e
[ "$status" -eq 78 ] || fail "orderflow-consumer with tax.so and a bad rate exited $status: $said"
[ "$said" = "orderflow-consumer process: handler $WORK/tax.so (tax 1.0.0): open failed: rate of EUR must be a percentage from 0 to 100 with at most two decimals, got \"high\"" ] ||
  fail "orderflow-consumer said: $said"
ok "the installed orderflow-consumer loads an out-of-tree plugin and reports its open failure (exit 78)"
echo "1..$checks"
