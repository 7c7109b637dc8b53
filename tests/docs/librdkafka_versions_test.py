"""docs/operations.md's "librdkafka versions" table against the one the code
keeps (common/kafka/versions.c): the same bugs, each marked (crash) when the
start-up warning names it, with the same first fixed version."""
import re
import sys

root = sys.argv[1]
code = open(f"{root}/common/kafka/versions.c").read()
rows = re.findall(
    r'\{"(#\d+)",\s*V\((\d+), (\d+), (\d+)\),\s*V\((\d+), (\d+), (\d+)\),\s*([01]),', code)
assert rows, "no rows found in common/kafka/versions.c"
doc = open(f"{root}/docs/operations.md").read()
section = doc.split("## librdkafka versions", 1)
assert len(section) == 2, 'docs/operations.md has no "## librdkafka versions" section'
table = {}
for line in section[1].split("\n## ", 1)[0].splitlines():
    m = re.match(r"\| (#\d+)( \(crash\))? \| ([^|]*) \|", line)
    if m:
        table[m.group(1)] = (bool(m.group(2)), m.group(3))
failures = []
for issue, a1, a2, a3, f1, f2, f3, crash in rows:
    fixed = f"{f1}.{f2}.{f3}"
    if issue not in table:
        failures.append(f"{issue} (versions.c) is missing from docs/operations.md's table")
        continue
    doc_crash, versions = table.pop(issue)
    if doc_crash != (crash == "1"):
        failures.append(f"{issue}: (crash) in the docs is {doc_crash}, in versions.c {crash == '1'}")
    if f"fixed in {fixed}" not in versions and not versions.startswith(f"before {fixed}"):
        failures.append(f"{issue}: versions.c says fixed in {fixed}, the docs say '{versions}'")
for issue in table:
    failures.append(f"{issue} is in docs/operations.md's table but not in versions.c")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
