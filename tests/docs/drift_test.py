#!/usr/bin/python3
"""Docs that must say what the code does, checked where a machine can:

- the problem `type`s docs/gateway.md lists are the ones gateway/*.c sends;
- every long option a command's --help shows is in its man page, and every
  one its man page documents is in --help;
- every option README.md's command lines give an orderflow command is one it
  takes (its --help), and the common options README lists are every command's;
- the exit statuses each --help lists are in README.md's list;
- README.md's package table is what scripts/setup.sh --list installs.

Usage: drift_test.py SOURCE_ROOT (ORDERFLOW_PRODUCER, ORDERFLOW_CONSUMER,
ORDERFLOW_BROKER, ORDERFLOW_GATEWAY name the executables).
"""
import glob
import os
import re
import subprocess
import sys

ROOT = sys.argv[1]
EXE = {
    "orderflow-producer": os.environ["ORDERFLOW_PRODUCER"],
    "orderflow-consumer": os.environ["ORDERFLOW_CONSUMER"],
    "orderflow-broker": os.environ["ORDERFLOW_BROKER"],
    "orderflow-gateway": os.environ["ORDERFLOW_GATEWAY"],
}
SUBCOMMANDS = ["process", "tail", "redrive", "lag"]
failures = []


def fail(msg):
    failures.append(msg)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def help_text(program, sub=None):
    argv = [EXE[program]] + ([sub] if sub else []) + ["--help"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def long_options(text):
    return set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])", text))


# --- problem types ---------------------------------------------------------
code_slugs = set()
for path in glob.glob(os.path.join(ROOT, "gateway", "*.c")):
    src = open(path, encoding="utf-8").read()
    for call in re.finditer(r"gw_(?:answer_)?problem\(", src):
        args = src[call.end():call.end() + 300]
        m = re.match(r'\s*[^,()]+(?:\([^)]*\))?,\s*[^,]+,\s*(?:"([a-z-]+)"|(\w+))', args, re.S)
        if not m:
            fail(f"{path}: cannot read the problem type of a call: {args[:80]!r}")
        elif m.group(1):
            code_slugs.add(m.group(1))
        elif m.group(2) not in ("slug", "const"):  # the definitions and their forwarder
            fail(f"{path}: a problem type passed as '{m.group(2)}', not a literal: list it by hand")
gateway_md = read("docs/gateway.md")
m = re.search(r"`type` is one of\s+`urn:orderflow:problem:` \+(.*?)\.\n", gateway_md, re.S)
if not m:
    fail("docs/gateway.md: no \"`type` is one of `urn:orderflow:problem:` + ...\" list")
else:
    doc_slugs = set(re.findall(r"`([a-z-]+)`", m.group(1)))
    if doc_slugs != code_slugs:
        fail("docs/gateway.md problem types differ from gateway/*.c: missing "
             f"{sorted(code_slugs - doc_slugs)}, not sent {sorted(doc_slugs - code_slugs)}")

# --- --help against the man pages -------------------------------------------
helps = {
    "orderflow-producer": help_text("orderflow-producer"),
    "orderflow-broker": help_text("orderflow-broker"),
    "orderflow-gateway": help_text("orderflow-gateway"),
}
helps["orderflow-consumer"] = help_text("orderflow-consumer")  # -V, --help, the subcommands
for sub in SUBCOMMANDS:
    helps[f"orderflow-consumer {sub}"] = help_text("orderflow-consumer", sub)
for program in ("orderflow-producer", "orderflow-broker", "orderflow-gateway", "orderflow-consumer"):
    man = read(f"docs/man/{program}.1").replace("\\-", "-")
    man_options = long_options(man)
    # The options the page defines: the tag line of each .TP item.
    defined = set()
    for tag in re.findall(r"^\.TP\n(.*)$", man, re.M):
        defined |= long_options(tag)
    shown = set()
    for name, text in helps.items():
        if name.split()[0] == program:
            shown |= long_options(text)
    for option in sorted(shown - man_options):
        fail(f"docs/man/{program}.1 does not document --{option} (its --help shows it)")
    for option in sorted(defined - shown):
        fail(f"docs/man/{program}.1 documents --{option}, which no --help of {program} shows")

# --- README's command lines -------------------------------------------------
readme = read("README.md")
blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
invocation = re.compile(r"orderflow-(producer|consumer|broker|gateway)(?:\s+(process|tail|redrive|lag))?")
for block in blocks:
    # Continuation lines belong to the command before them.
    for line in block.replace("\\\n", " ").splitlines():
        command = line.split("#", 1)[0]
        m = invocation.search(command)
        if not m:
            continue
        name = f"orderflow-{m.group(1)}" + (f" {m.group(2)}" if m.group(2) else "")
        if name not in helps:
            fail(f"README.md runs '{name}' without a subcommand: {line.strip()}")
            continue
        rest = re.sub(r"'[^']*'|\"[^\"]*\"", "", command[m.end():])
        for option in sorted(long_options(rest) - long_options(helps[name])):
            fail(f"README.md: '{name}' takes no --{option}: {line.strip()}")
m = re.search(r"commands take kcat's\s+common options: (.*?)\.", readme, re.S)
if not m:
    fail("README.md: no \"commands take kcat's common options: ...\" sentence")
else:
    for short, option in re.findall(r"`(-[a-zA-Z])/--([a-z-]+)", m.group(1)):
        for name in helps:
            text = helps[name]
            if name in ("orderflow-broker", "orderflow-consumer"):
                continue  # the broker has its own options; the bare consumer only dispatches
            if option not in long_options(text) and \
                    not re.search(rf"(?<![\w-]){short}[ ,]", text):
                fail(f"README.md lists {short}/--{option} as common, but '{name} --help' lacks it")

# --- exit statuses ----------------------------------------------------------
m = re.search(r"Exit\s+statuses follow `sysexits\.h` \((.*?)\)\.", readme, re.S)
if not m:
    fail("README.md: no \"Exit statuses follow `sysexits.h` (...)\" list")
else:
    listed = set(re.findall(r"(?<![\w-])(\d+)\s+[a-z]", m.group(1)))
    for name, text in helps.items():
        exit_part = re.search(r"Exit(?: status)?:(.*?)(?:\n\n|$)", text, re.S)
        if not exit_part:
            continue
        for status in sorted(set(re.findall(r"(?<![\w.-])(\d+)\s+[a-z]", exit_part.group(1))) - listed):
            fail(f"'{name} --help' lists exit status {status}, README.md's status list does not")

# --- packages ---------------------------------------------------------------
def setup_list(purpose):
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "setup.sh"), "--list", purpose],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


so_far = set()
for purpose in ("demo", "tests", "bench"):
    row = re.search(rf"^\| {purpose} \|[^|\n]*\|([^\n]*)\|\s*$", readme, re.M)
    if not row:
        fail(f"README.md: no '| {purpose} | ... | packages |' row in the package table")
        continue
    so_far |= set(re.findall(r"`([a-z0-9][a-z0-9.+-]*)`", row.group(1)))
    expected = setup_list(purpose)
    if so_far != expected:
        fail(f"README.md's packages for {purpose} differ from scripts/setup.sh --list {purpose}: "
             f"missing {sorted(expected - so_far)}, extra {sorted(so_far - expected)}")

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"ok: {len(code_slugs)} problem types, {len(helps)} commands' options, exit statuses and "
      "package lists agree with the docs")
