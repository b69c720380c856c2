#!/usr/bin/env python3
"""Check that the includes between src/ folders are exactly what
docs/ARCHITECTURE.md's tree table says.

The table's "may depend on" column lists, in backticks, what the files of
a folder may include from other folders: a folder name (`lib`: any of its
headers) or one header (`memory/memory.h`); other backticked words (file
names that say which file uses an edge) are commentary. Includes inside a folder are
always allowed; a header named *_internal.h is private to its folder.
The check fails on an include the table does not allow, and on a table
entry no include uses (the map must stay true in both directions).

    scripts/check-deps.py          (run by `make test`)
    scripts/check-deps.py --list   (print the actual cross-folder edges)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "ARCHITECTURE.md")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
ROW = re.compile(r"^\|\s*`src/(\w+)/`\s*\|(.*)\|([^|]*)\|\s*$")


def allowed_table():
    table = {}
    for line in open(DOC):
        m = ROW.match(line)
        if m:
            folder, folders = m.group(1), os.listdir(os.path.join(ROOT, "src"))
            entries = set()
            for tok in re.findall(r"`([^`]+)`", m.group(3)):
                # A folder, or a header of another folder; other code
                # (file names, the row's own headers) is commentary.
                if tok in folders or (re.fullmatch(r"\w+/\w+\.h", tok) and tok.split("/")[0] != folder):
                    entries.add(tok)
            table[folder] = entries
    return table


def actual_edges():
    """(folder, header included from another folder) -> files including it."""
    edges = {}
    src = os.path.join(ROOT, "src")
    for folder in sorted(os.listdir(src)):
        fdir = os.path.join(src, folder)
        if not os.path.isdir(fdir):
            continue
        for name in sorted(os.listdir(fdir)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(fdir, name)
            for lineno, line in enumerate(open(path), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if "/" not in inc:
                    inc = folder + "/" + inc
                if not os.path.exists(os.path.join(src, inc)):
                    edges.setdefault((folder, "MISSING " + inc), []).append("%s:%d" % (path[len(ROOT) + 1:], lineno))
                    continue
                if inc.split("/")[0] != folder:
                    edges.setdefault((folder, inc), []).append("%s:%d" % (path[len(ROOT) + 1:], lineno))
    return edges


def entry_allows(entry, header):
    return header == entry or header.split("/")[0] == entry


def main():
    edges = actual_edges()
    if "--list" in sys.argv:
        for (folder, header), where in sorted(edges.items()):
            print("%-7s -> %-22s %s" % (folder, header, " ".join(where)))
        return 0
    table = allowed_table()
    problems = []
    used = set()
    for (folder, header), where in sorted(edges.items()):
        if header.startswith("MISSING "):
            problems.append("%s: includes %s, which does not exist" % (where[0], header[8:]))
            continue
        if folder not in table:
            problems.append("%s: folder src/%s/ has no row in the tree table" % (where[0], folder))
            continue
        if header.endswith("_internal.h"):
            problems.append("%s: %s is private to src/%s/" % (where[0], header, header.split("/")[0]))
            continue
        ok = [e for e in table[folder] if entry_allows(e, header)]
        if not ok:
            problems.append("%s: src/%s/ may not include %s (docs/ARCHITECTURE.md, the tree table)"
                            % (", ".join(where), folder, header))
        used.update((folder, e) for e in ok)
    for folder, entries in sorted(table.items()):
        for e in sorted(entries):
            if (folder, e) not in used:
                problems.append("docs/ARCHITECTURE.md: src/%s/ may depend on `%s`, but no file does: "
                                "remove it from the table" % (folder, e))
    for p in problems:
        print("check-deps: " + p, file=sys.stderr)
    if not problems:
        print("check-deps: %d cross-folder include edges, all in docs/ARCHITECTURE.md's table" % len(edges))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
