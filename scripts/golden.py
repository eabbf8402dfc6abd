#!/usr/bin/env python3
"""Golden answers for tally's counting kernel (package tally/count).

SPEC.md defines every answer as a Python expression; this script evaluates
exactly those expressions, so the Go tests can compare against Python without
needing Python. Run it from anywhere (python3 >= 3.11, stdlib only):

    python3 scripts/golden.py

It is deterministic. It

1. writes adversarial inputs to testdata/text/gen-*.txt (whitespace of every
   kind, CRLF, invalid UTF-8, a line over 1 MiB, no final newline, an empty
   file, case-folding oddities, word boundaries, overlapping patterns, noise);
2. for every testdata/text/*.txt, plus the virtual input "zen1000" (zen.txt
   repeated 1000 times), writes testdata/golden/<name>.json with the
   statistics, the counts of many queries and the four full top tables;
3. writes testdata/golden/unicode.json: Python's whitespace, \\w, re.I
   classes and simple lowercase mapping over every code point.

Golden file schema (schema 1), one JSON object per input:

    {"schema": 1, "input": "zen1000", "file": "zen.txt", "repeat": 1000,
     "sha256": "<hex of the input bytes>",
     "stats": {"bytes": B, "lines": L, "tokens": T},
     "counts": [{"mode": "token"|"word"|"substring", "ignore_case": bool,
                 "targets": [str, ...], "counts": [int, ...]}, ...],
     "top": [{"words_only": bool, "lower": bool, "distinct": N,
              "entries": [[hex_of_token_bytes, readable, count], ...]}, ...]}

Every golden file holds the same queries in the same order (each target
list in TARGET_LISTS, in each mode, without and with ignore-case; token mode
leaves out targets holding whitespace). Top entries are in tally's order
(count descending, then token bytes ascending), all of them (-n 0); the hex is
the token's bytes as tally outputs them (surrogateescape), the readable form
is for humans only (long tokens are abbreviated).

unicode.json: {"schema": 1, "unidata_version": "14.0.0",
"assigned" | "space" | "word": [[first, last], ...] code point ranges
(assigned = not category Cn; space = str.isspace; word = re's \\w),
"lower": [[cp, simple lowercase], ...] where it differs,
"classes": [[cp, ...], ...] re.IGNORECASE equivalence classes of size > 1}.
"""

import hashlib
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import _sre

ROOT = Path(__file__).resolve().parent.parent
TEXT = ROOT / "testdata" / "text"
GOLDEN = ROOT / "testdata" / "golden"

# --- the oracle: SPEC.md's expressions, verbatim -----------------------------


def stats(data, text):
    return {"bytes": len(data), "lines": data.count(b"\n"), "tokens": len(text.split())}


def count(mode, ignore_case, text, t, tokens):
    """One target's count; tokens is text.split(), computed once per input."""
    if mode == "token":
        if not ignore_case:
            return tokens.count(t)
        pat = re.compile(re.escape(t), re.I)
        return sum(1 for w in tokens if pat.fullmatch(w))
    flags = re.I if ignore_case else 0
    if mode == "word":
        return len(re.findall(r"(?<!\w)" + re.escape(t) + r"(?!\w)", text, flags))
    if ignore_case:
        return len(re.findall(re.escape(t), text, re.I))
    return text.count(t)


def lower_char(c):
    # Simple lowercase mapping per character: str.lower is the full mapping,
    # which differs only for U+0130 (and the Final_Sigma rule, which a lone
    # character never triggers). check_lower() proves this for every code point.
    return "i" if c == "\u0130" else c.lower()


def readable(b):
    s = b.decode("utf-8", "backslashreplace")
    return s if len(s) <= 80 else f"{s[:40]}...({len(b)} bytes)"


def top(text, tokens, words_only, lower):
    toks = re.findall(r"\w+", text) if words_only else tokens
    if lower:
        toks = ["".join(lower_char(c) for c in tok) for tok in toks]
    freq = Counter(toks)
    rows = [(tok.encode("utf-8", "surrogateescape"), n) for tok, n in freq.items()]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return {
        "words_only": words_only,
        "lower": lower,
        "distinct": len(rows),
        "entries": [[b.hex(), readable(b), n] for b, n in rows],
    }


# --- queries ------------------------------------------------------------------

# Target lists; each runs in every mode, with and without ignore-case. Token
# mode drops targets containing whitespace (they are invalid there). Lists
# with more than 3 distinct targets exercise the one-pass matchers.
TARGET_LISTS = [
    ["the"],
    ["The"],
    ["a"],
    ["aa"],
    ["Alice", "said", "--"],
    ["k"],
    ["\u212a"],
    ["s"],
    ["\u03c3"],
    ["\u00df"],
    ["\u0130"],
    ["i"],
    ["\u03b9"],
    ["\u00b5"],
    ["\ufffd"],
    ["\u00e9"],
    ["the", "and", "a", "to", "of", "it", "she", "Alice", "said", "in", "was", "you",
     "I", "is", "better", "than", "The", "Python", "Holmes", "sand"],
    ["k", "\u212a", "K", "s", "\u017f", "S", "\u03c3", "\u03c2", "\u03a3", "\u00df", "\u1e9e",
     "\u0130", "\u0131", "i", "I", "\u03b9", "\u0345", "\u1fbe", "\u00b5", "\u03bc", "\u03b8",
     "\u03d1", "\u03f4", "\u03c9", "\u2126", "\u00e5", "\u212b", "\u01c5", "\u0390", "\u1fd3",
     "\u03b0", "\u1fe3", "\ufb05", "\ufb06", "\u1e61", "\u1e9b", "\u0432", "\u1c80", "\u00e9",
     "e\u0301", "\u0301", "\u20ac", "\ufffd"],
    ["Stra\u00dfe", "STRASSE", "stra\u00dfe", "\u03a3\u03bf\u03c6\u03af\u03b1", "\u03c3\u03bf\u03c6\u03b9\u03b1",
     "\u212aelvin", "kelvin", "\u0130stanbul", "istanbul", "\u0131d", "caf\u00e9", "cafe\u0301",
     "na\u00efve", "\u00b5s", "\u03bcs", "\u017ftop"],
    [".", ",", "--", "'", "!", "?", "\u201c", "\u201d", "\u2019", "(", ")", "...", "_", "-", ":", ";"],
    ["a", "aa", "aaa", "ab", "ba", "b", "he", "she", "his", "hers", "the", "th", "h", "e", "abab",
     "aaaa"],
    ["the", "the", "The", "THE", "tHe"],
    ["1", "42", "_", "the_", "_the", "a_b", "x1", "3", "2023"],
    ["a b", "the cat", "\t", "\u00a0", "the\u00a0end", " ", "\u3000", "a\tb", "\r", "\x1c",
     "\u2028", "\u0085", "cat\u3000dog", ". ", "  "],
    ["\ufffd", "\u20ac", "the", "\u65e5\u672c", "\U0001f600", "x\u200by", "\ufeff"],
]

MODES = ["token", "word", "substring"]


def queries():
    for targets in TARGET_LISTS:
        for mode in MODES:
            ts = targets
            if mode == "token":
                ts = [t for t in targets if not any(c.isspace() for c in t)]
            if not ts:
                continue
            for ignore_case in (False, True):
                yield mode, ignore_case, ts


def golden(name, file, repeat, data):
    text = data.decode("utf-8", "surrogateescape")
    tokens = text.split()
    out = {
        "schema": 1,
        "input": name,
        "file": file,
        "repeat": repeat,
        "sha256": hashlib.sha256(data).hexdigest(),
        "stats": stats(data, text),
        "counts": [
            {"mode": m, "ignore_case": ic, "targets": ts,
             "counts": [count(m, ic, text, t, tokens) for t in ts]}
            for m, ic, ts in queries()
        ],
        "top": [top(text, tokens, w, lo) for w in (False, True) for lo in (False, True)],
    }
    write_json(GOLDEN / f"{name}.json", out)


def write_json(path, obj):
    """JSON with one query or top entry per line, so diffs stay readable."""
    dump = lambda v: json.dumps(v, ensure_ascii=False)
    lines = ["{"]
    items = list(obj.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if k in ("counts", "top", "classes") and isinstance(v, list):
            lines.append(f"  {dump(k)}: [")
            for j, row in enumerate(v):
                sep = "," if j < len(v) - 1 else ""
                if isinstance(row, dict) and "entries" in row:
                    head = {kk: vv for kk, vv in row.items() if kk != "entries"}
                    lines.append("    " + dump(head)[:-1] + ', "entries": [')
                    ents = row["entries"]
                    for e, ent in enumerate(ents):
                        lines.append("      " + dump(ent) + ("," if e < len(ents) - 1 else ""))
                    lines.append("    ]}" + sep)
                else:
                    lines.append("    " + dump(row) + sep)
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {dump(k)}: {dump(v)}{comma}")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- Unicode tables -----------------------------------------------------------


def ranges(pred):
    out, start = [], None
    for cp in range(0x110000 + 1):
        ok = cp < 0x110000 and pred(cp)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append([start, cp - 1])
            start = None
    return out


def fold_classes():
    """re.I equivalence classes of size > 1, observed from re itself.

    Only characters with some case behaviour can match another one under re.I
    (re compares simple lowercase forms plus the pairs of re/_casefix.py), so
    matching each such character against all the others finds every class.
    """
    cand = set()
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        low = _sre.unicode_tolower(cp)
        if low != cp or c.lower() != c or c.upper() != c or c.casefold() != c:
            cand.update((cp, low))
    cand.update(re._casefix._EXTRA_CASES)
    cand = sorted(cand)
    hay = "".join(map(chr, cand))
    match = {cp: frozenset(map(ord, re.findall(re.escape(chr(cp)), hay, re.I))) for cp in cand}
    for cp, m in match.items():  # an equivalence relation, or classes would be wrong
        assert cp in m, hex(cp)
        assert all(match[o] == m for o in m), (hex(cp), sorted(map(hex, m)))
    return sorted({tuple(sorted(m)) for m in match.values() if len(m) > 1})


def check_lower():
    """lower_char is the simple lowercase mapping for every code point."""
    pairs = []
    for cp in range(0x110000):
        c = chr(cp)
        low = lower_char(c)
        assert len(low) == 1, hex(cp)
        assert ord(low) == _sre.unicode_tolower(cp), hex(cp)
        if low != c:
            pairs.append([cp, ord(low)])
    return pairs


def unicode_tables():
    word = re.compile(r"\w")
    write_json(GOLDEN / "unicode.json", {
        "schema": 1,
        "unidata_version": unicodedata.unidata_version,
        "assigned": ranges(lambda cp: unicodedata.category(chr(cp)) != "Cn"),
        "space": ranges(lambda cp: chr(cp).isspace()),
        "word": ranges(lambda cp: word.match(chr(cp)) is not None),
        "lower": check_lower(),
        "classes": [list(c) for c in fold_classes()],
    })


# --- generated inputs -----------------------------------------------------------

# Every character Python's str.split() splits on (asserted below to be
# unicode.IsSpace's set plus U+001C..U+001F), and look-alikes that are not.
SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(
    map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
NOT_SPACES = "\u200b\u180e\ufeff\u2060\x00\x1b\x7f"

# Invalid UTF-8: lone continuation bytes, truncated sequences, overlongs,
# encoded surrogates, code points past U+10FFFF, bytes never used in UTF-8.
INVALID = [b"\x80", b"\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc0\xaf",
           b"\xc1\xbf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xed\xa0\x80",
           b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe",
           b"\xff", b"\xe2\x80", b"\xc2"]

WORDS = ["the", "The", "THE", "a", "aa", "aaaa", "Alice", "said", "and", "she", "hers",
         "his", "k", "K", "\u212aelvin", "kelvin", "Stra\u00dfe", "STRASSE", "\u0130stanbul",
         "\u0131d", "\u03a3\u03bf\u03c6\u03af\u03b1", "\u03c3\u03bf\u03c6\u03b9\u03b1\u03c2",
         "\u00b5s", "\u03bcs", "caf\u00e9", "cafe\u0301", "\u017ftop", "x1", "a_b", "42",
         "--", "...", "\u201cthe\u201d", "the,", "(the)", "\u65e5\u672c", "\U0001f600",
         "\ufffd", "\u20ac", "\u0390", "\u1fd3", "\ufb05", "\ufb06", "\u0345"]


def gen_whitespace():
    out = []
    for w in SPACES + NOT_SPACES:
        out.append(f"the{w}cat{w}{w}the{w}a{w}b{w}The{w}\n")
        out.append(f"{w}the cat{w}dog a b{w}end{w}the\u00a0end\n")
    out.append("cat\u3000dog a\tb the   cat\n")
    return (SPACES + "".join(out) + SPACES).encode()


def gen_crlf():
    lines = ["the cat\r", "The End\r", "\r", "a b\r", "--the--\r", "aa\raa\r", "\rthe\r"]
    return ("\n".join(lines * 50) + "\r\nlast\r").encode()


def gen_invalid():
    out = []
    for bad in INVALID:
        for word in ("the", "a", "aa", "caf\u00e9", "\u20ac", "\ufffd", "k"):
            w = word.encode()
            nbsp = "\u00a0".encode()
            out.append(bad + w + b" " + w + bad + b" " + bad + w + bad + b" x" + bad + nbsp + w + b"\n")
            out.append(w + b"\xe2\x80" + w + b" " + bad + b"\xe2\x80\x80" + w + bad + bad + b"\n")
    out.append(b"\xef\xbf\xbd real U+FFFD \xef\xbf\xbd\xff\xef\xbf\xbd\n")
    out.append(b"\xc3\xa9\xa9 \xe2\x82\xac\x82 \xf0\x9f\x98\x80\x80 trailing\xc3")
    return b"".join(out)


def gen_longline(rng):
    # A line over 1 MiB of tokens from a small vocabulary, a second long run
    # without any whitespace, then short lines; no final newline.
    seps = [" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", ", ", ". "]
    parts, size = [], 0
    while size < (1 << 20) + 4096:
        p = rng.choice(WORDS) + rng.choice(seps)
        parts.append(p)
        size += len(p.encode())
    line = "".join(parts)
    return (line + "\n" + "a" * 30001 + "\n" + "aa ab aaa\nthe end").encode()


def gen_nofinalnl():
    return "The cat sat.\nthe the\ta\u00a0aa\nthe".encode()


def gen_fold():
    lines = [
        "\u212a k K \u212aelvin kelvin KELVIN \u212a\u212a kk",
        "\u017f s S \u017ftop stop STOP \u017f\u017f ss",
        "\u0130 \u0131 i I \u0130stanbul istanbul ISTANBUL \u0131d id ID i\u0307",
        "\u00df \u1e9e ss SS Stra\u00dfe STRASSE STRA\u1e9eE strasse",
        "\u03a3 \u03c3 \u03c2 \u03a3\u039f\u03a6\u0399\u0391\u03a3 \u03c3\u03bf\u03c6\u03b9\u03b1\u03c2 \u03c3\u03bf\u03c6\u03af\u03b1",
        "\u00b5 \u03bc \u039c \u00b5s \u03bcs \u039cS",
        "\u0345 \u03b9 \u0399 \u1fbe a\u0345 \u03b1\u0345 \u0345\u0345 \u1fb3",
        "\u03b8 \u03d1 \u0398 \u03f4 \u03c9 \u2126 \u03a9 \u00e5 \u212b \u00c5",
        "\u01c4 \u01c5 \u01c6 \u0390 \u1fd3 \u03b0 \u1fe3 \ufb05 \ufb06 st ST",
        "\u1e61 \u1e60 \u1e9b \u0432 \u0412 \u1c80 \ua64b \u1c88 \u03b2 \u03d0 \u03b5 \u03f5",
        "caf\u00e9 cafe\u0301 CAF\u00c9 e\u0301 \u0301e \u00e9\u0301 na\u00efve",
        "\u10d0 \u1c90 \u13a0 \uab70 \U00010400 \U00010428 \u2c00 \u2c30",
    ]
    return ("\n".join(lines * 20) + "\n").encode()


def gen_boundary():
    ctx = ["{}", "{}.", ".{}", "({})", "{}_", "_{}", "{}1", "1{}", "\u00e9{}", "{}\u00e9",
           "{}\u0301", "\u0301{}", "--{}--", "{}'s", "\u201c{}\u201d", "{}{}", "x{}x", "\u2019{}",
           "{}\ufffd", "\u00b2{}", "{}\u00bd", "\u2160{}", "{}\u0660", "{}-{}", "{}!"]
    out = []
    for t in ["the", "The", "a", "aa", "k", "\u212a", "a_b", "42", "--", ".", "\u0345", "\u03b9"]:
        out.append(" ".join(c.replace("{}", t) for c in ctx))
    return ("\n".join(out * 4) + "\n").encode()


def gen_overlap():
    lines = ["a", "aa", "aaa", "aaaa", "aaaaa", "a" * 33, "abababa", "aaa aa a", "the the the",
             "thethe", "hehehe", "she hers his ushers", "aAaA AAAA", "abab ababab", "hershe"]
    return ("\n".join(lines * 10) + "\n").encode()


def gen_random(rng):
    alphabet = (list("aabbstkiAKSI  \n.,-_1'") + ["the ", "he", "\r\n", "aa"] + list(SPACES)
                + list(NOT_SPACES) + list("\u212a\u017f\u0130\u0131\u00df\u1e9e\u03c3\u03c2\u03a3\u00b5\u03bc\u0345\u03b9\u00e9\u0301"))
    out = []
    for _ in range(30000):
        if rng.random() < 0.03:
            out.append(rng.choice(INVALID))
        else:
            out.append(rng.choice(alphabet).encode())
    return b"".join(out)


def generate(dest):
    # str.split() must split exactly on SPACES, the set the Go side uses.
    assert [c for c in map(chr, range(0x110000)) if c.isspace()] == list(SPACES)
    rng = random.Random(20240601)
    files = {
        "gen-whitespace.txt": gen_whitespace(),
        "gen-crlf.txt": gen_crlf(),
        "gen-invalid.txt": gen_invalid(),
        "gen-longline.txt": gen_longline(rng),
        "gen-nofinalnl.txt": gen_nofinalnl(),
        "gen-empty.txt": b"",
        "gen-fold.txt": gen_fold(),
        "gen-boundary.txt": gen_boundary(),
        "gen-overlap.txt": gen_overlap(),
        "gen-random.txt": gen_random(rng),
    }
    assert sum(map(len, files.values())) < 3 << 20
    for name, data in files.items():
        (dest / name).write_bytes(data)



def main():
    # SPEC's oracle is Python 3.11: its Unicode data (14.0) decides \w, case
    # classes and whitespace, and another version would rewrite the answers.
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"golden.py needs Python 3.11, not {sys.version.split()[0]}")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    generate(TEXT)
    for path in sorted(TEXT.glob("*.txt")):
        golden(path.stem, path.name, 1, path.read_bytes())
    golden("zen1000", "zen.txt", 1000, (TEXT / "zen.txt").read_bytes() * 1000)
    unicode_tables()


if __name__ == "__main__":
    main()
