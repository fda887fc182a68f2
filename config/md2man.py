#!/usr/bin/env python3
"""Render config/REFERENCE.md (the one source of the configuration
reference) as the man page stopgate.yaml(5).

    python3 config/md2man.py config/REFERENCE.md > stopgate.yaml.5

Knows the Markdown that file uses: headings, paragraphs, "-" lists (two
levels), fenced code, pipe tables (each row becomes a tagged paragraph:
the first cell, then "header: cell" for the others), `code`, **bold**,
*italic* and [links](...). Non-ASCII characters become groff escapes, so
the page renders the same whatever the locale."""

import re
import sys

NAMED = {"\u2014": r"\(em", "\u2013": r"\(en", "\u2192": r"\(->",
         "\u00a7": r"\(sc", "\u2026": r"\&...", "\u00d7": r"\(mu"}


def esc(s):
    """Plain text for groff: backslashes, then non-ASCII characters."""
    s = s.replace("\\", r"\e")
    out = []
    for ch in s:
        if ord(ch) < 128:
            out.append(ch)
        elif ch in NAMED:
            out.append(NAMED[ch])
        elif ord(ch) > 0xFFFF:
            out.append("[U+%X]" % ord(ch))   # no glyph in groff's fonts
        else:
            out.append(r"\[u%04X]" % ord(ch))
    return "".join(out)


def inline(s):
    """Markdown inline markup to groff font escapes."""
    s = s.replace(r"\|", "|")
    s = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", s)
    parts = re.split(r"(`[^`]*`)", s)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) >= 2:
            out.append(r"\fB" + esc(p[1:-1]).replace("-", r"\-") + r"\fR")
            continue
        p = esc(p)
        p = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", p)
        p = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"\\fI\1\\fR",
                   p)
        out.append(p)
    return "".join(out)


def line_out(text):
    """A text line: a leading . or ' would be read as a request."""
    text = text.strip()
    if text.startswith((".", "'")):
        text = r"\&" + text
    return text


def cells(row):
    row = row.strip().strip("|")
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def table(rows, out):
    head = cells(rows[0])
    for row in rows[2:]:
        c = cells(row)
        out.append(".TP")
        out.append(line_out(inline(c[0])))
        body = []
        for h, v in zip(head[1:], c[1:]):
            if v:
                body.append("%s: %s" % (inline(h) or "value", inline(v)))
        out.append(line_out("; ".join(body) if body else r"\&"))


def render(lines):
    out = [r".\" Generated from config/REFERENCE.md by config/md2man.py;"
           r" edit that file.",
           ".TH STOPGATE.YAML 5 2026 stopgate \"File Formats Manual\"",
           ".SH NAME",
           r"stopgate.yaml \- stopgate configuration file",
           ".SH SYNOPSIS",
           r"\fB@SYSCONFDIR@/stopgate/stopgate.yaml\fR"]
    para, rows, depth = [], [], 0
    i = 0

    def flush():
        nonlocal para, rows
        if para:
            out.append(line_out(inline(" ".join(para))))
            para = []
        if rows:
            table(rows, out)
            rows = []

    while i < len(lines):
        ln = lines[i].rstrip("\n")
        i += 1
        if ln.startswith("```"):
            flush()
            out.extend([".PP", ".RS 4", ".EX"])
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_out(esc(lines[i].rstrip("\n"))) or r"\&")
                i += 1
            i += 1
            out.extend([".EE", ".RE"])
            continue
        if ln.startswith("|"):
            if para:
                flush()
            rows.append(ln)
            continue
        if rows:
            flush()
        m = re.match(r"^(#+)\s+(.*)", ln)
        if m:
            flush()
            depth = 0
            if len(m.group(1)) == 1:
                out.extend([".SH DESCRIPTION", ".PP"])
                continue
            tag = ".SH" if len(m.group(1)) == 2 else ".SS"
            title = inline(m.group(2).replace("`", ""))
            out.append('%s "%s"' % (tag, title.upper() if tag == ".SH"
                                    else title))
            continue
        m = re.match(r"^(\s*)- (.*)", ln)
        if m:
            flush()
            level = 1 if len(m.group(1)) >= 2 else 0
            while depth > level:
                out.append(".RE")
                depth -= 1
            if level > depth:
                out.append(".RS")
                depth = level
            out.append(r".IP \(bu 2")
            para = [m.group(2)]
            continue
        if not ln.strip():
            flush()
            if depth:
                out.extend([".RE"] * depth)
                depth = 0
                out.append(".PP")
            elif out[-1] not in (".PP", ".RE") and not out[-1].startswith(
                    (".SH", ".SS")):
                out.append(".PP")
            continue
        para.append(ln.strip())
    flush()
    out.extend([".RE"] * depth)
    out.extend([".SH \"SEE ALSO\"", r".BR stopgate (8)"])
    # No paragraph break right before a heading or at the end.
    text = []
    for j, l in enumerate(out):
        nxt = out[j + 1] if j + 1 < len(out) else ".SH"
        if l == ".PP" and nxt.startswith((".SH", ".SS", ".PP", ".TP",
                                          ".IP")):
            continue
        text.append(l)
    return "\n".join(text) + "\n"


def main():
    if len(sys.argv) != 2:
        print("usage: md2man.py REFERENCE.md", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(render(f.readlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
