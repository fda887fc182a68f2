#!/usr/bin/env python3
"""stopgate style checker: the rules of /work/shared/STYLE.md that a tool can
check without a C parser. clang-format 14 cannot express our KNF (aligned
declarations, tab-then-4-spaces continuations), so this is what
`make format-check` runs; `make format` (clang-format) is an editor aid only.

Usage: style-check.py [--no-length] FILE...
       style-check.py --self-test   (each rule against a bad and a good sample)
Prints "file:line: rule: detail" for each finding and, last, a count.
Exit 0 when nothing is found, 1 otherwise, 2 on a usage error.

Rules (the name printed in each finding):
  indent        the indentation is tabs, then at most 7 spaces (a KNF
                continuation is tabs + 4 spaces; a block comment's " *" is
                1 space): 8 spaces where a tab belongs, or a space before a
                tab, is a finding.
  columns       at most 80 columns, a tab counting to the next multiple of 8.
  trailing      no trailing blanks.
  return-type   a function definition has its return type on the line above
                its name, and its "{" alone at column 0 (KNF).
  guard         a header's guard is its path in capitals, "/" and "." as
                "_": smpp/pdu.h is SMPP_PDU_H.
  own-header    x.c's first #include is its own "dir/x.h" when that exists
                (or its module's internal "dir/x_int.h", which includes it).
  banned        no strcpy, strcat, sprintf, vsprintf or gets (snprintf,
                memcpy with a checked length, or strlcpy-like helpers
                instead).
  vla           no variable-length array: an array declared in a function
                body whose size is not a constant expression (a heuristic:
                the size names a lower-case identifier outside sizeof;
                the compiler's -Wvla under WERROR=1 is the full check).
  length        a function body (lines between its "{" and "}" at column 0)
                is at most 100 lines. Only for product code; --no-length
                turns it off (tests may hold long tables).
  issue-ref     a comment says why; it never cites "issue N".
"""
import os
import re
import sys

MAX_COLS = 80
MAX_BODY = 100
BANNED = ("strcpy", "strcat", "sprintf", "vsprintf", "gets")
BANNED_RE = re.compile(r"\b(" + "|".join(BANNED) + r")\s*\(")
# "issue 6", "Issue #12"; not a document's edition ("SMPP v3.4 Issue 1.2").
ISSUE_RE = re.compile(r"\bissues?\s*#?\s*\d+\b(?!\.\d)", re.I)
INDENT_RE = re.compile(r"^(\t*)( *)(\t?)")
# A declarator at column 0: "name(" alone, or "type ... name(" (a finding).
DECL_RE = re.compile(r"^((?:[A-Za-z_][\w \t\*]*?)?)\b([A-Za-z_]\w*)\s*\(")
# "int f(void) {" at column 0: a definition not laid out as KNF.
OPEN_BRACE_RE = re.compile(
    r"^(?!(?:struct|enum|union|typedef|static\s+const|const)\b)"
    r"[A-Za-z_][\w \t\*]*\([^;=]*\)\s*\{\s*$")
ARRAY_RE = re.compile(
    r"^\s*(?:(?:const|static|volatile|unsigned|signed|struct|enum|union)\s+)*"
    r"[A-Za-z_]\w*[\s\*]+\**\s*([A-Za-z_]\w*)\s*\[([^\]]+)\]\s*[;=,]")


def split_code_comments(lines):
    """For each line, the code with comments and literals blanked, and the
    text of the comments on it."""
    code, comments = [], []
    in_block = False
    for line in lines:
        c, m = [], []
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            if in_block:
                if line.startswith("*/", i):
                    in_block = False
                    c.append("  ")
                    i += 2
                else:
                    m.append(ch)
                    c.append(" ")
                    i += 1
            elif line.startswith("/*", i):
                in_block = True
                c.append("  ")
                i += 2
            elif line.startswith("//", i):
                m.append(line[i + 2:])
                c.append(" " * (n - i))
                break
            elif ch in "\"'":
                q = ch
                c.append(ch)
                i += 1
                while i < n and line[i] != q:
                    step = 2 if line[i] == "\\" else 1
                    c.append(" " * min(step, n - i))
                    i += step
                if i < n:
                    c.append(q)
                    i += 1
            else:
                c.append(ch)
                i += 1
        code.append("".join(c))
        comments.append("".join(m))
    return code, comments


def columns(line):
    col = 0
    for ch in line:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def guard_name(path):
    return re.sub(r"[/.\-]", "_", path).upper()


def check_header_guard(path, code, report):
    want = guard_name(path)
    for i, line in enumerate(code):
        m = re.match(r"\s*#\s*ifndef\s+(\w+)", line)
        if m:
            if m.group(1) != want:
                report(i, "guard", "is %s, want %s" % (m.group(1), want))
            return
        if re.match(r"\s*#", line):
            break
    report(0, "guard", "no #ifndef %s guard" % want)


def check_own_header(path, lines, report):
    base = os.path.splitext(path)[0] + ".h"
    internal = os.path.splitext(path)[0] + "_int.h"
    if not os.path.exists(base):
        return
    for i, line in enumerate(lines):
        m = re.match(r'\s*#\s*include\s+[<"]([^>"]+)[>"]', line)
        if m:
            if m.group(1) != base and m.group(1) != internal:
                report(i, "own-header",
                    'first include is %s, want "%s"' % (m.group(1), base))
            return


def check_functions(code, want_length, report):
    """KNF function definitions: "{" and "}" at column 0."""
    i, n = 0, len(code)
    while i < n:
        if OPEN_BRACE_RE.match(code[i]):
            report(i, "return-type", "a function's { goes on a line of "
                "its own, after the return type's line and the name's")
        if not code[i].startswith("{"):
            i += 1
            continue
        # The declarator is the nearest line above at column 0.
        j = i - 1
        while j >= 0 and (code[j] == "" or code[j][0] in " \t"):
            j -= 1
        decl = code[j] if j >= 0 else ""
        is_function = j >= 0 and "(" in decl and not decl.rstrip().endswith(
            ("=", ";")) and not decl.startswith(("#", "struct", "enum",
                "union", "typedef"))
        k = i + 1
        while k < n and not code[k].startswith("}"):
            k += 1
        if is_function:
            m = DECL_RE.match(decl)
            if m and m.group(1).strip():
                report(j, "return-type", "%s: put '%s' on its own line"
                    % (m.group(2), m.group(1).strip()))
            body = k - i - 1
            if want_length and body > MAX_BODY:
                name = m.group(2) if m else decl.strip()
                report(i, "length", "%s: body is %d lines (max %d)"
                    % (name, body, MAX_BODY))
            check_vla(code, i + 1, k, report)
        i = k + 1


def check_vla(code, start, end, report):
    for i in range(start, min(end, len(code))):
        line = code[i]
        if re.match(r"\s*(return|case|goto|else)\b", line):
            continue
        m = ARRAY_RE.match(line)
        if not m:
            continue
        size = re.sub(r"\bsizeof\s*\([^)]*\)", "", m.group(2))
        size = re.sub(r"\bsizeof\s+\w+", "", size)
        for ident in re.findall(r"[A-Za-z_]\w*", size):
            if not ident.isupper() and not re.match(r"^[A-Z][A-Z0-9_]*$",
                    ident):
                report(i, "vla", "%s[%s]: size is not a constant"
                    % (m.group(1), m.group(2).strip()))
                break


def check_file(path, want_length):
    found = []

    def report(i, rule, detail):
        found.append((i + 1, rule, detail))

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().split("\n")
    except OSError as e:
        print("%s: cannot read: %s" % (path, e.strerror), file=sys.stderr)
        return None
    if lines and lines[-1] == "":
        lines.pop()
    code, comments = split_code_comments(lines)
    for i, line in enumerate(lines):
        if line != line.rstrip():
            report(i, "trailing", "trailing blanks")
        if columns(line) > MAX_COLS:
            report(i, "columns", "%d columns (max %d)"
                % (columns(line), MAX_COLS))
        if line.strip():
            m = INDENT_RE.match(line)
            if len(m.group(2)) >= 8 or (m.group(2) and m.group(3)):
                report(i, "indent", "spaces where a tab belongs")
        m = BANNED_RE.search(code[i])
        if m:
            report(i, "banned", "%s() is banned" % m.group(1))
        if ISSUE_RE.search(comments[i]):
            report(i, "issue-ref",
                "a comment cites an issue number; say why instead")
    if path.endswith(".h"):
        check_header_guard(path, code, report)
    else:
        check_own_header(path, lines, report)
    check_functions(code, want_length, report)
    return sorted(found)


# --self-test: each rule must fire on its bad sample and stay quiet on the
# good one. (path, text, rules expected, in order of line)
SELF_TEST = [
    ("smpp/good.h", "#ifndef SMPP_GOOD_H\n#define SMPP_GOOD_H\n"
        "/* SMPP v3.4 Issue 1.2, section 5. */\n#endif\n", []),
    ("smpp/good.c", "#include \"smpp/good.h\"\n\nstatic int\n"
        "good(const char *s,\n    int n)\n{\n\tchar\tb[SIZE * 2 + "
        "sizeof(int)];\n\n\tsnprintf(b, sizeof(b), \"%s strcpy(\", s);"
        "\n\treturn n; /* why, not a ticket */\n}\n", []),
    ("smpp/bad.h", "#ifndef BAD_H\n#define BAD_H\n#endif\n", ["guard"]),
    ("smpp/bad.c", "#include <stdio.h>\n#include \"smpp/bad.h\"\n"
        "static int bad(int n)\n{\n        int x;\n\tchar b[n]; \n"
        "\tstrcpy(b, \"x\");\n\treturn x; /* see issue 12 */\n}\n"
        "int\nworse(void) {\n\treturn 0;\n}\n/* " + "x" * 80 + " */\n",
        ["own-header", "return-type", "indent", "trailing", "vla",
        "banned", "issue-ref", "return-type", "columns"]),
    ("smpp/long.c", "static int\nlong_one(void)\n{\n" + "\t;\n" * 101 +
        "}\n", ["length"]),
]


def self_test():
    import tempfile
    failed = 0
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            os.mkdir("smpp")
            for path, text, _ in SELF_TEST:
                with open(path, "w") as fh:
                    fh.write(text)
            for path, _, want in SELF_TEST:
                got = [rule for _, rule, _ in check_file(path, True)]
                if got != want:
                    print("self-test: %s: got %s, want %s" % (path, got,
                        want), file=sys.stderr)
                    failed += 1
        finally:
            os.chdir(here)
    print("style-check: self-test %s" % ("failed" if failed else "passed"),
        file=sys.stderr)
    return 1 if failed else 0


def main(argv):
    want_length = True
    args = argv[1:]
    if args and args[0] == "--self-test":
        return self_test()
    if args and args[0] == "--no-length":
        want_length = False
        args = args[1:]
    if not args:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    total = 0
    for path in args:
        path = os.path.normpath(path)
        found = check_file(path, want_length)
        if found is None:
            total += 1
            continue
        for line, rule, detail in found:
            print("%s:%d: %s: %s" % (path, line, rule, detail))
        total += len(found)
    print("style-check: %d file(s), %d finding(s)" % (len(args), total),
        file=sys.stderr)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
