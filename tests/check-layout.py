#!/usr/bin/env python3
"""Enforce the source layout described in the Makefile's head comment.

Usage: check-layout.py [ROOT]      (ROOT defaults to the tree this file is in)
Prints "file:line: rule: detail" for each finding, then a summary line.
Exit 0 when the layout holds, 1 otherwise.

Rules:
  layer     a folder includes only its own headers and those of the folders
            LAYERS lists for it. The libraries (smpp, config, store) sit
            below proxy/; smpp is a pure codec that includes nothing of
            ours. proxy/main.c, which wires everything together, may
            include anything.
  external  libevent (<event2/...>) and OpenSSL (<openssl/...>) only in
            proxy/io, proxy/daemon and proxy/admin: the rest is libraries
            that tests and fuzzers link without an event loop. LMDB
            (<lmdb.h>) only in store/ (MDB_* never leaks out) and libyaml
            (<yaml.h>) only in config/, libpq (<libpq-fe.h>) only in
            proxy/cluster.
  cycle     no include cycle among modules; x.c, x.h and x_int.h (or
            x_internal.h) are one module. A cycle is printed as the modules
            of one strongly connected component.

Only product code is checked (tests/, build/ and dot folders are skipped).
"""
import os
import re
import sys

LIBS = {"smpp", "config", "store"}

# Which folders each folder may include, besides itself.
LAYERS = {
    "smpp": set(),
    "config": {"smpp"},
    # The store includes nothing of ours today; the codec (number
    # normalisation) is the one library it may use.
    "store": {"smpp"},
    "proxy/io": {"smpp", "config"},
    "proxy/policy": set(LIBS),
    "proxy/compliance": {"proxy/policy"} | LIBS,
    "proxy/cluster": {"proxy/io", "proxy/policy"} | LIBS,
    "proxy/daemon": {"proxy/io", "proxy/policy", "proxy/compliance",
        "proxy/cluster"} | LIBS,
    "proxy/cli": {"proxy/compliance", "proxy/policy", "proxy/cluster"} | LIBS,
    "proxy/admin": {"proxy/daemon", "proxy/compliance", "proxy/io",
        "proxy/policy", "proxy/cluster"} | LIBS,
}
TOP = "proxy"   # proxy/main.c: may include any folder

# External headers (by prefix) and the folders that may include them.
EXTERNAL = {
    "event2/": {"proxy/io", "proxy/daemon", "proxy/admin"},
    "openssl/": {"proxy/io", "proxy/daemon", "proxy/admin"},
    "lmdb.h": {"store"},
    "yaml.h": {"config"},
    "libpq-fe.h": {"proxy/cluster"},
}

SKIP = ("tests", "build", "node_modules", "docker")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def source_files(root):
    out = []
    for d, subdirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        first = rel.split(os.sep)[0]
        if rel != "." and (first in SKIP or first.startswith(".")):
            subdirs[:] = []
            continue
        subdirs.sort()
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                out.append(os.path.normpath(os.path.join(rel, n)))
    return out


def folder(path):
    return os.path.dirname(path).replace(os.sep, "/")


def module(path):
    m = os.path.splitext(path)[0]
    for suffix in ("_internal", "_int"):
        if m.endswith(suffix):
            return m[: -len(suffix)]
    return m


def includes(root, path):
    with open(os.path.join(root, path), encoding="utf-8",
            errors="replace") as fh:
        for i, line in enumerate(fh, 1):
            m = INCLUDE_RE.match(line)
            if m:
                yield i, m.group(1), m.group(2)


def resolve(fileset, src, name):
    for cand in (os.path.normpath(os.path.join(os.path.dirname(src), name)),
            os.path.normpath(name)):
        if cand in fileset:
            return cand
    return None


def sccs(nodes, edges):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    files = source_files(root)
    fileset = set(files)
    findings = []
    edges, where = {}, {}
    for f in files:
        src = folder(f)
        for line, kind, name in includes(root, f):
            if kind == "<":
                for prefix, allowed in EXTERNAL.items():
                    if name.startswith(prefix) and src not in allowed:
                        findings.append((f, line, "external",
                            "<%s> is for %s only" % (name,
                            ", ".join(sorted(allowed)))))
                continue
            target = resolve(fileset, f, name)
            if target is None:
                continue
            dst = folder(target)
            if dst != src and src != TOP:
                allowed = LAYERS.get(src)
                if allowed is None:
                    findings.append((f, line, "layer",
                        "folder %s is not in the layout" % src))
                elif dst not in allowed:
                    findings.append((f, line, "layer",
                        "%s may not include %s (%s may include: %s)" %
                        (src, target, src,
                        ", ".join(sorted(allowed)) or "nothing of ours")))
            if module(target) != module(f):
                edges.setdefault(module(f), set()).add(module(target))
                where.setdefault((module(f), module(target)), (f, line))
    cycles = sccs({module(f) for f in files}, edges)
    for comp in cycles:
        members = set(comp)
        for a in comp:
            for b in sorted(edges.get(a, ())):
                if b in members:
                    f, line = where[(a, b)]
                    findings.append((f, line, "cycle", "%s -> %s (cycle: %s)"
                        % (a, b, " ".join(comp))))
    for f, line, rule, detail in sorted(findings):
        print("%s:%d: %s: %s" % (f, line, rule, detail))
    print("check-layout: %d file(s), %d finding(s), %d cycle(s)"
        % (len(files), len(findings), len(cycles)), file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
