#!/usr/bin/env python3
"""Find #include lines that can go: for each project include of each file
under src/, drop it, check that everything depending on the file still
compiles (-fsyntax-only, the build's warnings as errors), and check that
the file uses none of the names the header declares (so a header that a
file uses but also gets through another one stays: include what you use).

    scripts/unused-includes.py [--apply] [files...]

Prints the removable lines; --apply removes them. A system header goes
only when the file uses none of the names listed for it in SYSTEM below
(headers not listed there are left alone).
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
          "-Wno-missing-field-initializers", "-Isrc", "-DUSE_JEMALLOC", "-fsyntax-only"]
INC = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def sources():
    out = []
    for d, _, files in os.walk(os.path.join(ROOT, "src")):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, f), ROOT))
    return sorted(out)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def declared_names(header):
    """Names a header declares: macros, typedefs, tags, enum constants,
    functions and extern variables."""
    text = strip_comments(open(os.path.join(ROOT, header)).read())
    names = set(re.findall(r"#\s*define\s+(\w+)", text))
    names |= set(re.findall(r"\b(?:struct|union|enum)\s+(\w+)\s*\{", text))
    names |= set(re.findall(r"typedef[^;{]*?\b(\w+)\s*;", text))
    names |= set(re.findall(r"\}\s*(\w+)\s*;", text))
    names |= set(re.findall(r"typedef[^;]*?\(\s*\*?\s*(\w+)\s*\)\s*\(", text))
    for body in re.findall(r"enum\s*\w*\s*\{([^}]*)\}", text):
        names |= set(re.findall(r"(\w+)\s*(?:=[^,]*)?(?:,|$)", body.strip()))
    depth = 0
    for line in text.split("\n"):
        if depth == 0 and not line.startswith((" ", "\t", "#")):
            m = re.search(r"\b(\w+)\s*\(", line)
            if m and not line.lstrip().startswith("typedef"):
                names.add(m.group(1))
            m = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", line)
            if m:
                names.add(m.group(1))
            m = re.match(r"extern\s+[^(]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*;", line)
            if m:
                names.add(m.group(1))
        depth += line.count("{") - line.count("}")
    return {n for n in names if n and not n.isdigit() and n not in KEYWORDS}


SYSTEM = {
    "string.h": r"mem\w+|str(?!ing)\w+",
    "strings.h": r"strn?casecmp|bzero|ffs\w*",
    "stdio.h": r"\w*printf|\w*scanf|FILE|fopen|fclose|fgets|fputs|fflush|fwrite|fread|stderr|stdout|stdin|perror|rename|remove|getline|feof|fileno|BUFSIZ|EOF|fdopen|fseek|ftell|putc|puts|getc|fputc",
    "stdlib.h": r"malloc|calloc|realloc|free|strto\w+|ato\w+|abort|exit|_exit|qsort|bsearch|getenv|setenv|abs|llabs|labs|rand|srand|EXIT_\w+|realpath|mkstemp|div",
    "limits.h": r"\w*_(MAX|MIN)|CHAR_BIT|PATH_MAX",
    "ctype.h": r"is\w+|to(upper|lower)",
    "time.h": r"time|clock_gettime|clock|timespec|CLOCK_\w+|nanosleep|localtime\w*|gmtime\w*|strftime|mktime|tm|time_t",
    "unistd.h": r"usleep|sleep|close|read|write|getpid|sysconf|_SC_\w+|unlink|access|fsync|dup2?|pipe|fork|lseek|ftruncate|getcwd|chdir|isatty|STDIN_FILENO|STDOUT_FILENO|STDERR_FILENO|ssize_t|pid_t|gethostname|readlink|execv\w*|optarg",
    "math.h": r"\w*(sqrt|pow|log|exp|floor|ceil|fabs|isnan|isinf|isfinite|fmod|round|trunc|sin|cos|atan2?|asin|acos|tan|modf|ldexp|frexp)\w*|HUGE_VAL\w*|INFINITY|NAN|M_\w+",
    "errno.h": r"errno|E[A-Z]+",
    "stdint.h": r"u?int\d+_t|u?intptr_t|U?INT\d+_(MAX|MIN|C)|SIZE_MAX|UINTPTR_MAX|u?intmax_t",
    "stddef.h": r"size_t|ptrdiff_t|offsetof|NULL|max_align_t",
    "stdbool.h": r"bool|true|false",
    "assert.h": r"assert|static_assert",
    "inttypes.h": r"PRI\w+|SCN\w+|strto[iu]max",
    "stdatomic.h": r"atomic_\w+|_Atomic",
    "pthread.h": r"pthread_\w+|PTHREAD_\w+",
    "float.h": r"[LD]?BL?_\w+|FLT_\w+|DBL_\w+|LDBL_\w+",
    "stdarg.h": r"va_\w+",
    "signal.h": r"sig\w+|SIG\w+|raise|kill",
    "fcntl.h": r"open|fcntl|O_\w+|F_\w+",
}

KEYWORDS = set("""if else for while do return sizeof static inline const void int char long short
unsigned signed double float struct union enum typedef extern switch case default break continue
goto volatile register restrict _Bool _Static_assert size_t""".split())


def uses_any(path, names, drop_line):
    lines = open(os.path.join(ROOT, path)).read().split("\n")
    text = strip_comments("\n".join(l for i, l in enumerate(lines) if i != drop_line))
    words = set(re.findall(r"\b\w+\b", text))
    return sorted(names & words)


def system_uses(path, pattern, drop_line):
    lines = open(os.path.join(ROOT, path)).read().split("\n")
    text = strip_comments("\n".join(l for i, l in enumerate(lines) if i != drop_line))
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return sorted(set(w for w in re.findall(r"\b\w+\b", text) if re.fullmatch(pattern, w)))


def dependents(path, graph_cache={}):
    """The .c files whose compilation reads path (itself if a .c)."""
    if path.endswith(".c"):
        return [path]
    if "g" not in graph_cache:
        g = {}
        for s in sources():
            g[s] = [m.group(2) if m.group(1) == '"' else None
                    for m in (INC.match(l) for l in open(os.path.join(ROOT, s))) if m]
        graph_cache["g"] = g
    g = graph_cache["g"]
    out = []
    for s in g:
        if not s.endswith(".c"):
            continue
        seen, todo = set(), [s]
        while todo:
            f = todo.pop()
            for inc in g.get(f, []):
                if inc and inc not in seen:
                    seen.add(inc)
                    todo.append("src/" + inc if not inc.startswith("src/") else inc)
        if path[len("src/"):] in seen or path in seen:
            out.append(s)
    return out


def compiles(files):
    for f in files:
        r = subprocess.run(["cc"] + CFLAGS + [f], cwd=ROOT, capture_output=True)
        if r.returncode != 0:
            return False
    return True


def main():
    apply = "--apply" in sys.argv
    files = [a for a in sys.argv[1:] if not a.startswith("--")] or sources()
    for path in files:
        full = os.path.join(ROOT, path)
        lines = open(full).read().split("\n")
        i = 0
        while i < len(lines):
            m = INC.match(lines[i])
            if not m:
                i += 1
                continue
            kind, inc = m.groups()
            removed = lines[:i] + lines[i + 1:]
            original = "\n".join(lines)
            open(full, "w").write("\n".join(removed))
            try:
                ok = compiles(dependents(path))
            finally:
                open(full, "w").write(original)
            if not ok:
                i += 1
                continue
            if kind == '"':
                used = uses_any(path, declared_names("src/" + inc), i)
            elif inc in SYSTEM:
                used = system_uses(path, SYSTEM[inc], i)
            else:
                used = ["(not listed)"]
            if used:
                print(f"{path}: {inc}: builds without it but uses {', '.join(used[:4])}")
                i += 1
                continue
            print(f"{path}: REMOVABLE {lines[i].strip()}")
            if apply:
                lines = removed
                open(full, "w").write("\n".join(lines))
                continue
            i += 1


if __name__ == "__main__":
    main()
