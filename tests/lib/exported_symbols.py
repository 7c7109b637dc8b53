"""Fails when liborderflow exports anything lib/orderflow/*.h does not declare,
or when a function those headers declare is not exported (a missing
OF_EXPORT), as librdkafka's 0006-symbols and libinput's symbols-leak test do;
and, given README.md, when the count of exported functions it states ("(N; a
test keeps it so)") is not the count exported.

Usage: exported_symbols.py LIBRARY HEADER_DIR... [--readme README.md]
HEADER_DIR: the source's lib/orderflow, and the build's for generated headers.
"""
import pathlib
import re
import subprocess
import sys


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    # "ADDRESS TYPE NAME"; the linker's own markers (_edata, _end, __bss_start)
    # are not symbols of ours but would still be a leak if they appeared.
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def declared(header_dirs):
    names = set()
    headers = [h for d in header_dirs for h in sorted(pathlib.Path(d).glob("*.h"))]
    for header in headers:
        text = header.read_text()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
        text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)  # preprocessor
        for statement in text.split(";"):
            # A name before "(" declares a function; "(*" is a function
            # pointer member of a struct (of_handler's open/handle/close).
            match = re.search(r"\b(of_[a-z0-9_]+)\s*\((?!\s*\*)", statement)
            if match and "typedef" not in statement:
                if not statement.lstrip().startswith("OF_EXPORT") and "OF_EXPORT" not in statement:
                    sys.exit(f"{header.name}: {match.group(1)} is declared without OF_EXPORT")
                names.add(match.group(1))
    return names


def readme_count(readme):
    match = re.search(r"\((\d+); a test keeps it so\)", pathlib.Path(readme).read_text())
    if not match:
        sys.exit(f"{readme}: no '(N; a test keeps it so)' giving the count of exported functions")
    return int(match.group(1))


def main():
    args = sys.argv[1:]
    readme = None
    if "--readme" in args:
        at = args.index("--readme")
        readme = args[at + 1]
        del args[at:at + 2]
    library, header_dirs = args[0], args[1:]
    header_dir = " and ".join(header_dirs)
    have, want = exported(library), declared(header_dirs)
    if not want:
        sys.exit(f"no function declarations found in {header_dir}/*.h")
    leaked = sorted(have - want)
    missing = sorted(want - have)
    for name in leaked:
        print(f"exported but not declared in a public header: {name}", file=sys.stderr)
    for name in missing:
        print(f"declared in a public header but not exported: {name}", file=sys.stderr)
    if leaked or missing:
        sys.exit(1)
    if readme and readme_count(readme) != len(have):
        sys.exit(f"{readme} says liborderflow exports {readme_count(readme)} functions; "
                 f"it exports {len(have)}")
    print(f"{len(have)} exported symbols, each declared in {header_dir}/*.h")


main()
