#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Holds every #include to docs/ARCHITECTURE.md's table (path | one job | may use).

  scripts/check-imports.py [--root SOURCE_ROOT]

The table says, per directory, what its code may use; this script reads the
"may use" column by the rule written above the table and checks each
`#include` of every C/C++ file under SCANNED against it, so the document stays
true and a layering break fails the build (meson test `architecture-imports`).

A header is resolved as the compiler would: first against the table below
(external libraries and generated headers), then a quoted include against the
including file's own directory, then against INCLUDE_ROOTS. Any other angle
include is the platform's (libc, the C++ standard library, Linux UAPI) when
PLATFORM knows it, which every file may use.

It also fails when a directory holding C/C++ files has no row, when a row or a
"may use" entry names a path that does not exist, and when a row may use a row
listed below it (dependencies point downwards). Exit 1 on any finding.
"""

import argparse
import fnmatch
import os
import re
import sys

# The one table of headers that are not in the tree: (pattern of the text between
# <> or "", name used in ARCHITECTURE.md's "may use" column). First match wins.
EXTERNAL = [
    ("bpf/*", "libbpf"),
    ("libelf.h", "libelf"),
    ("gelf.h", "libelf"),
    ("curl/*", "libcurl"),
    ("archive*.h", "libarchive"),
    ("sqlite3.h", "sqlite3"),
    ("systemd/*", "libsystemd"),
    ("nlohmann/*", "json"),
    ("openssl/*", "libcrypto"),
    ("doctest*", "doctest"),
    # Generated at build time, so no file in the tree: meson's configuration
    # header (version, installed paths) and bpftool's dump of a kernel's types
    # that BPF programs compile against.
    ("btfd-config.h", "btfd-config.h"),
    ("vmlinux.h", "vmlinux.h"),
]

# Where quoted (and project angle) includes resolve, relative to the source root:
# the union of the include directories meson gives the targets.
INCLUDE_ROOTS = ["common", "engine", "daemon", "libclient/include", "tests", "."]

# The directories whose C/C++ files are checked.
SCANNED = ["common", "engine", "daemon", "libclient", "cli", "bench", "tests", "docs"]
SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".h", ".hpp")

# Platform headers, everyone's: the C++ standard library (no dot in the name) and
# these. Anything else in <> that EXTERNAL does not name is an unknown library.
PLATFORM_PREFIXES = ("sys/", "linux/", "asm/", "asm-generic/", "netinet/", "arpa/", "net/")
PLATFORM = set("""
    assert.h ctype.h dirent.h dlfcn.h elf.h endian.h errno.h fcntl.h fnmatch.h ftw.h
    getopt.h glob.h grp.h inttypes.h limits.h link.h locale.h malloc.h math.h poll.h
    pthread.h pwd.h sched.h search.h semaphore.h setjmp.h signal.h spawn.h stdalign.h
    stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h
    string.h strings.h syslog.h termios.h time.h uchar.h unistd.h utime.h wchar.h
    wctype.h byteswap.h err.h error.h features.h libgen.h mntent.h paths.h sysexits.h
""".split())

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
ROW_RE = re.compile(r"^\|(.*)\|\s*$")
PATH_CELL_RE = re.compile(r"^`([^`]+)`$")
PLACEHOLDER_RE = re.compile(r"<[^/>]+>")


class Row:
    def __init__(self, index, line, path, uses_paths, uses_names, uses_text):
        self.index = index          # position in the table, top is 0
        self.line = line            # line number in ARCHITECTURE.md
        self.path = path            # as written: dir/ , file, or with <x> placeholders
        self.uses_paths = uses_paths
        self.uses_names = uses_names
        self.uses_text = uses_text  # the entries as written, for messages
        parts = path.rstrip("/").split("/")
        self.is_dir = path.endswith("/")
        self.depth = len(parts)
        self.literal = not PLACEHOLDER_RE.search(path)
        self.regex = re.compile(
            "^" + "/".join("[^/]+" if PLACEHOLDER_RE.fullmatch(p) else re.escape(p) for p in parts)
            + ("/" if self.is_dir else "$"))

    def covers(self, rel):
        """Whether repository-relative path rel (a file or dir/) is under this row."""
        return bool(self.regex.match(rel))


def strip_parentheses(text):
    while True:
        stripped = re.sub(r"\([^()]*\)", "", text)
        if stripped == text:
            return text
        text = stripped


def parse_table(doc_path, errors):
    """The rows of the first table whose header is path | one job | may use."""
    rows = []
    in_table = False
    with open(doc_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for number, text in enumerate(lines, 1):
        m = ROW_RE.match(text)
        if not m:
            if in_table:
                break
            continue
        cells = [c.strip() for c in m.group(1).split("|")]
        if not in_table:
            if [c.lower() for c in cells] == ["path", "one job", "may use"]:
                in_table = True
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        where = "%s:%d" % (doc_path, number)
        if len(cells) != 3:
            errors.append("%s: a row needs 3 cells (path | one job | may use), this one has %d"
                          % (where, len(cells)))
            continue
        pm = PATH_CELL_RE.match(cells[0])
        if not pm:
            errors.append("%s: the path cell must be one `path` in backquotes, not %r" % (where, cells[0]))
            continue
        uses_paths, uses_names, uses_text = [], [], []
        for entry in strip_parentheses(cells[2]).split(","):
            entry = entry.strip()
            if entry in ("", "—", "-"):
                continue
            em = PATH_CELL_RE.match(entry)
            if em:
                uses_paths.append(em.group(1))
            elif "`" in entry:
                errors.append("%s: cannot read may-use entry %r: a path alone in backquotes, "
                              "or a library's name" % (where, entry))
                continue
            else:
                uses_names.append(entry)
            uses_text.append(entry)
        rows.append(Row(len(rows), number, pm.group(1), uses_paths, uses_names, uses_text))
    if not rows:
        errors.append("%s: no table with the header | path | one job | may use |" % doc_path)
    return rows


def row_of(rows, rel):
    """The most specific row covering rel: deepest path, a literal one before a pattern."""
    best = None
    for row in rows:
        if row.covers(rel) and (best is None or (row.depth, row.literal) > (best.depth, best.literal)):
            best = row
    return best


def external_name(header):
    for pattern, name in EXTERNAL:
        if fnmatch.fnmatchcase(header, pattern):
            return name
    return None


def is_platform(header):
    return "." not in header or header.startswith(PLATFORM_PREFIXES) or header in PLATFORM


def resolve(root, including_dir, kind, header):
    """('file', rel path) | ('external', name) | ('platform', None) | ('unknown', why)."""
    name = external_name(header)
    if name:
        return "external", name
    if kind == '"':
        own = os.path.normpath(os.path.join(including_dir, header))
        if os.path.isfile(os.path.join(root, own)):
            return "file", own  # the including file's own directory comes first, as in cpp
    found = []
    for r in INCLUDE_ROOTS:
        rel = os.path.normpath(os.path.join(r, header))
        if os.path.isfile(os.path.join(root, rel)) and rel not in found:
            found.append(rel)
    if len(found) > 1:
        return "unknown", "resolves to more than one file (%s)" % ", ".join(found)
    if found:
        return "file", found[0]
    if kind == "<" and is_platform(header):
        return "platform", None
    if kind == "<":
        return "unknown", ("belongs to no library scripts/check-imports.py knows "
                           "(add it to EXTERNAL, and its name to the rows that use it)")
    return "unknown", "is no file in its own directory, %s, nor a generated header" % ", ".join(
        "the repository root" if r == "." else r + "/" for r in INCLUDE_ROOTS)


def source_files(root):
    for top in SCANNED:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            for fn in sorted(filenames):
                if fn.endswith(SOURCE_SUFFIXES):
                    yield os.path.relpath(os.path.join(dirpath, fn), root)


def path_exists(root, path):
    """A path as written in the table exists; <x> must match at least one directory."""
    parts = path.rstrip("/").split("/")
    bases = [root]
    for p in parts:
        if PLACEHOLDER_RE.fullmatch(p):
            bases = [os.path.join(b, d) for b in bases if os.path.isdir(b)
                     for d in sorted(os.listdir(b)) if os.path.isdir(os.path.join(b, d))]
        else:
            bases = [os.path.join(b, p) for b in bases]
    want_dir = path.endswith("/")
    return any(os.path.isdir(b) if want_dir else os.path.isfile(b) for b in bases)


def entry_allows(entry, rel):
    if entry.endswith("/"):
        return rel.startswith(entry)
    return rel == entry


def check_rows(root, rows, code_rows, errors):
    known_names = {name for _, name in EXTERNAL}
    for row in rows:
        where = "docs/ARCHITECTURE.md:%d" % row.line
        if not path_exists(root, row.path):
            errors.append("%s: row `%s` names a path that does not exist" % (where, row.path))
        for entry in row.uses_paths:
            if not path_exists(root, entry):
                errors.append("%s: `%s` may use `%s`, a path that does not exist"
                              % (where, row.path, entry))
                continue
            # Dependencies point downwards: every row the entry reaches is above this one.
            # The row the entry lies in, and for a directory every row under it.
            reached = [r for r in rows if r is row_of(rows, entry) or (
                entry.endswith("/") and r.path.startswith(entry))]
            for r in reached:
                if r is not row and r.index > row.index:
                    errors.append("%s: `%s` may use `%s`, but `%s` is listed below it "
                                  "(dependencies point downwards: a row uses only rows above it)"
                                  % (where, row.path, entry, r.path))
        if row in code_rows:
            for name in row.uses_names:
                if name not in known_names:
                    errors.append("%s: `%s` may use %r, which is no library scripts/check-imports.py "
                                  "knows (one of: %s)" % (where, row.path, name,
                                                          ", ".join(sorted(known_names))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the source tree (default: this script's repository)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    errors = []
    rows = parse_table(os.path.join(root, "docs", "ARCHITECTURE.md"), errors)
    if not rows:
        print("\n".join(errors), file=sys.stderr)
        return 1

    files = list(source_files(root))
    rowless = {}
    code_rows = set()
    checked = 0
    for rel in files:
        row = row_of(rows, rel)
        if row is None:
            rowless.setdefault(os.path.dirname(rel), []).append(os.path.basename(rel))
            continue
        code_rows.add(row)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        for number, text in enumerate(lines, 1):
            m = INCLUDE_RE.match(text)
            if not m:
                continue
            checked += 1
            kind, header = m.group(1), m.group(2).strip()
            shown = kind + header + ('"' if kind == '"' else ">")
            what, target = resolve(root, os.path.dirname(rel), kind, header)
            if what == "platform":
                continue
            if what == "unknown":
                errors.append("%s:%d: includes %s, which %s" % (rel, number, shown, target))
                continue
            if what == "external":
                if target in row.uses_names:
                    continue
                module = target
            else:
                target_row = row_of(rows, target)
                if target_row is row or any(entry_allows(e, target) for e in row.uses_paths):
                    continue
                module = "`%s`" % target_row.path if target_row else "no row"
            errors.append("%s:%d: includes %s (module %s) but ARCHITECTURE.md lets `%s` use only %s"
                          % (rel, number, shown, module, row.path,
                             ", ".join(row.uses_text) if row.uses_text else "itself"))

    for directory, names in sorted(rowless.items()):
        errors.append("%s/: holds C/C++ sources (%s) but no row of docs/ARCHITECTURE.md covers it"
                      % (directory, ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")))
    check_rows(root, rows, code_rows, errors)

    for e in errors:
        print(e)
    if errors:
        print("check-imports: %d finding(s) in %d files, %d includes" % (len(errors), len(files), checked),
              file=sys.stderr)
        return 1
    print("check-imports: %d files, %d includes, %d rows: all as docs/ARCHITECTURE.md says"
          % (len(files), checked, len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
