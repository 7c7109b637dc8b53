#!/usr/bin/env bash
# docs/orderflow.rules.yml is a rule file Prometheus accepts (promtool check
# rules), and every orderflow metric it uses is one docs/operations.md lists.
# Skipped (77) only where promtool is not installed; scripts/setup.sh installs it.
set -euo pipefail
rules=$1 operations=$2
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (Debian: prometheus)" >&2; exit 77; }
promtool check rules "$rules"
for name in $(grep -o 'orderflow_[a-z_]*' "$rules" | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  grep -q "\`$name\`" "$operations" || { echo "FAIL: $name is not listed in $operations" >&2; exit 1; }
done
echo ok
