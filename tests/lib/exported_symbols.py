"""Fails when liborderflow exports anything lib/orderflow/*.h does not declare,
or when a function those headers declare is not exported (a missing
OF_EXPORT), as librdkafka's 0006-symbols and libinput's symbols-leak test do.

Usage: exported_symbols.py LIBRARY HEADER_DIR
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


def declared(header_dir):
    names = set()
    for header in sorted(pathlib.Path(header_dir).glob("*.h")):
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


def main():
    library, header_dir = sys.argv[1], sys.argv[2]
    have, want = exported(library), declared(header_dir)
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
    print(f"{len(have)} exported symbols, each declared in {header_dir}/*.h")


main()
