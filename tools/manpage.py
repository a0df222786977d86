#!/usr/bin/env python3
"""tools/manpage.py — turns docs/iasql.1.md, the one source of the command
reference (the CLI's usage and `iasql help` print it too), into the man
page iasql(1) at build time.

    python3 tools/manpage.py docs/iasql.1.md VERSION OUT

The source is a small subset of Markdown: "# name section "title"", "##"
sections, "###" commands (a heading, then a one-line summary, then
paragraphs), paragraphs, and `code`."""
import re
import sys


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", text)
    return text


def line(text):
    out = roff(text)
    return "\\&" + out if out[:1] in (".", "'") else out


def main():
    src, version, dest = sys.argv[1:4]
    lines = open(src, encoding="utf-8").read().split("\n")
    out = []
    m = re.match(r'^# (\S+) (\d) "(.*)"$', lines[0])
    if not m:
        sys.exit("%s: the first line must be: # name section \"title\"" % src)
    name, section, title = m.groups()
    out.append('.TH %s %s "" "%s %s" "%s"' % (name.upper(), section, name, version, title))
    in_command = False
    for raw in lines[1:]:
        if raw.startswith("### "):
            out.append(".TP")
            head = raw[4:].split(" ", 1)
            out.append("\\fB%s %s\\fR%s" % (name, roff(head[0]),
                                             " " + roff(head[1]) if len(head) > 1 else ""))
            in_command = True
            first = True
        elif raw.startswith("## "):
            out.append(".SH " + raw[3:].upper())
            in_command = False
        elif not raw.strip():
            if in_command and not first:
                out.append(".IP")
            elif not in_command:
                out.append(".PP")
        else:
            out.append(line(raw))
            first = False
    with open(dest, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
