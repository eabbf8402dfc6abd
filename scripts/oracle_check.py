#!/usr/bin/env python3
"""Cross-check a tally binary against Python's builtins, SPEC.md's oracle.

    python3 scripts/oracle_check.py --bin bin/tally [--root .] [--corpora DIR]

(scripts/oracle-check.sh BIN is the CI entry point.) Inputs: every file of the
shared corpora (ROOT/../shared/corpora unless --corpora; skipped with a message
when absent) plus about 20 MB of generated adversarial text, seeded so runs are
reproducible: random mixes of ASCII words, punctuation, every Unicode
whitespace character, look-alikes that are not whitespace, CRLF, invalid UTF-8,
case-folding letters, combining marks, lines over 2 MiB, no final newline.

Checks, each one tally run in embedded mode with --json, compared document by
document (bytes, lines, tokens and every count) and in total:

- count in token/word/substring mode, with and without -i, over a fixed list
  of targets, at the default chunk size and at 64 KiB;
- jobs with 20 targets;
- top -n 0 in the four --words-only/--lower combinations, the full table in
  order, on a subset (five books and the generated text: Python's top over all
  70 MB is slow) and, apart, on the file with lines over 2 MiB; and plain
  top -n 0 over every document (a table of some 400,000 entries).

Python computes exactly SPEC.md's expressions. Two shortcuts keep it fast and
change no answer: a token count is read from a Counter of the tokens (equal to
tokens.count(t), and for -i the fullmatch test runs once per distinct token,
weighted by its count), and --lower maps each distinct token once.

It prints one line per check, the first differences of a failed check, and
finally "oracle-check: N passed, M failed"; the exit status is 1 when a check
failed, 2 when the check itself could not run.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

# --- queries --------------------------------------------------------------------

# Targets of the mode x ignore-case matrix. Token mode drops the targets with
# whitespace (tally rejects them there, as SPEC says).
TARGETS = ["the", "The", "and", "Holmes", "sand", "of the", "caf\u00e9", "\u212aelvin", "--"]

# 20 targets: common words, boundaries, case-folding oddities and punctuation.
TARGETS20 = ["the", "and", "of", "to", "a", "in", "that", "I", "he", "was", "his", "Holmes",
             "sand", "\u00e9", "\u03c3\u03bf\u03c6\u03af\u03b1", "\u017ftop", "\u0130stanbul", "STRASSE",
             "--", "..."]

MODES = ["token", "word", "substring"]
SMALL_CHUNK = "64KiB"


def count_queries():
    """(mode, ignore_case, targets) of every count check."""
    qs = []
    for mode in MODES:
        for ic in (False, True):
            qs.append((mode, ic, tuple(t for t in TARGETS if mode != "token" or not has_space(t))))
    qs.append(("word", True, tuple(TARGETS20)))
    qs.append(("token", True, tuple(TARGETS20)))
    qs.append(("substring", False, tuple(TARGETS20)))
    return qs


TOP_VARIANTS = [(False, False), (False, True), (True, False), (True, True)]  # (words_only, lower)

# Books for the top checks besides the generated text: CRLF, a BOM, transcoded
# text and Ulysses' odd tokens. Missing ones are skipped.
TOP_BOOKS = ["pg1661-adventures-of-sherlock-holmes.txt", "pg1260-jane-eyre.txt",
             "pg2600-war-and-peace.txt", "pg4300-ulysses.txt", "kjv-bible-canterbury-large.txt"]


def has_space(s):
    return any(c.isspace() for c in s)


# --- the oracle: SPEC.md's expressions ---------------------------------------------


def stats(data, text, tokens):
    return {"bytes": len(data), "lines": data.count(b"\n"), "tokens": len(tokens)}


def count_one(mode, ic, text, tok_counter, t):
    if mode == "token":
        if not ic:
            return tok_counter[t]  # == text.split().count(t)
        pat = re.compile(re.escape(t), re.I)
        # == sum(1 for w in text.split() if re.fullmatch(re.escape(t), w, re.I))
        return sum(n for w, n in tok_counter.items() if pat.fullmatch(w))
    flags = re.I if ic else 0
    if mode == "word":
        return len(re.findall(r"(?<!\w)" + re.escape(t) + r"(?!\w)", text, flags))
    if ic:
        return len(re.findall(re.escape(t), text, re.I))
    return text.count(t)


def lower_char(c):
    # Unicode simple lowercase mapping. str.lower() is the full mapping: it
    # differs for U+0130 (two characters) and applies the Final_Sigma rule.
    return "i" if c == "\u0130" else c.lower()


def lower_token(tok):
    # str.lower() equals the per-character simple mapping unless the token
    # has U+0130 or U+03A3 (check_lower proves it for every code point).
    if "\u0130" in tok or "\u03a3" in tok:
        return "".join(lower_char(c) for c in tok)
    return tok.lower()


def check_lower():
    for cp in range(0x110000):
        c = chr(cp)
        if cp != 0x130 and len(c.lower()) != 1:
            raise AssertionError(f"U+{cp:04X} lowercases to {len(c.lower())} characters")
        if cp != 0x3A3 and lower_token("a" + c) != "a" + lower_char(c):
            raise AssertionError(f"lower_token fast path is wrong for U+{cp:04X}")


def top_counters(text, tok_counter, words_only, lower):
    c = Counter(re.findall(r"\w+", text)) if words_only else tok_counter
    if lower:
        low = Counter()
        for tok, n in c.items():
            low[lower_token(tok)] += n
        c = low
    return c


# Invalid UTF-8 decodes (surrogateescape) to U+DC80..U+DCFF, one per byte;
# tally's JSON (Go's encoding/json) shows each such byte as U+FFFD.
JSON_REPLACE = {cp: "\ufffd" for cp in range(0xDC80, 0xDD00)}


def top_table(counter):
    """All rows in SPEC order (count descending, then token bytes ascending),
    tokens as tally's JSON shows them. Replacing invalid bytes can make two
    rows read the same, but rows are never merged: both lists keep every row
    in the order of the real bytes, so they compare equal row by row."""
    rows = [(tok.encode("utf-8", "surrogateescape"), n, tok) for tok, n in counter.items()]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return [(tok.translate(JSON_REPLACE), n) for _, n, tok in rows]


def analyze(job):
    """Everything Python says about one document (runs in a worker process)."""
    path, top_variants = job
    start = time.monotonic()
    data = Path(path).read_bytes()
    text = data.decode("utf-8", "surrogateescape")
    tokens = text.split()
    out = {"path": path, "stats": stats(data, text, tokens)}
    tok_counter = Counter(tokens)
    del tokens
    out["counts"] = {q: [count_one(q[0], q[1], text, tok_counter, t) for t in q[2]]
                     for q in count_queries()}
    out["top"] = {v: top_counters(text, tok_counter, *v) for v in top_variants}
    out["seconds"] = time.monotonic() - start
    return out


# --- generated adversarial text -------------------------------------------------------

SPACES = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
NOT_SPACES = "\u200b\u180e\ufeff\u2060\x00\x1b\x7f"
INVALID = [b"\x80", b"\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc0\xaf", b"\xc1\xbf",
           b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",
           b"\xfe", b"\xff", b"\xe2\x80", b"\xc2"]
ENGLISH = ("the the the the The THE tHe and and AND of of to a a in that I he was it his her "
           "Holmes HOLMES holmes Holmes's sand Sand thousand sandy is be for on with as at by "
           "said she you not this but from they which or an aa aaa end cat").split()
UNICODE_WORDS = ["\u212a", "k", "K", "\u212aelvin", "Kelvin", "KELVIN", "kelvin", "\u017f", "\u017ftop",
                 "stop", "STOP", "\u0130", "\u0130stanbul", "istanbul", "ISTANBUL", "\u0131", "\u0131d",
                 "i\u0307", "\u00df", "\u1e9e", "Stra\u00dfe", "STRASSE", "STRA\u1e9eE", "strasse",
                 "\u03a3", "\u03c3", "\u03c2", "\u03a3\u039f\u03a6\u0399\u0391", "\u03c3\u03bf\u03c6\u03af\u03b1",
                 "\u03c3\u03bf\u03c6\u03af\u03b1\u03c2", "\u03a3\u03bf\u03c6\u03af\u03b1\u03a3",
                 "\u00b5", "\u00b5s", "\u03bcs", "\u039cS", "caf\u00e9", "cafe\u0301", "CAF\u00c9", "\u00e9",
                 "e\u0301", "na\u00efve", "\u65e5\u672c", "\U0001f600", "\ufffd", "\u20ac", "\u0390",
                 "\u1fd3", "\ufb05", "\ufb06", "st", "\u0345", "\u03b9", "\u0399", "\u1fbe", "\u01c4",
                 "\u01c5", "\u01c6", "\u2126", "\u03c9", "\u212b", "\u00e5", "\u0432", "\u1c80", "x1", "42",
                 "\u00b2", "\u2160", "\u0660", "a_b", "_", "the_", "_the"]
PUNCT = ["--", "---", "...", ".", ",", ";", "!", "?", "'", '"', "(", ")", "\u201c", "\u201d", "\u2019", "-"]
LONG_LINES = "gen-longlines.txt"
MARKS = ["\u0301", "\u0307", "\u0345", "\u0308"]


def gen_token(rng):
    r = rng.random()
    if r < 0.62:
        w = rng.choice(ENGLISH)
    elif r < 0.90:
        w = rng.choice(UNICODE_WORDS)
    elif r < 0.95:
        w = rng.choice(PUNCT)
    else:
        w = rng.choice(ENGLISH) + rng.choice(PUNCT) + rng.choice(ENGLISH)
    r = rng.random()
    if r < 0.08:
        w = rng.choice(PUNCT) + w
    elif r < 0.16:
        w = w + rng.choice(PUNCT)
    elif r < 0.18:
        w = w + rng.choice(MARKS)
    b = w.encode()
    r = rng.random()
    if r < 0.01:
        b = rng.choice(INVALID) + b
    elif r < 0.02:
        b = b + rng.choice(INVALID)
    elif r < 0.025:
        cut = rng.randrange(len(b) + 1)  # may split a UTF-8 sequence: more invalid bytes
        b = b[:cut] + rng.choice(INVALID) + b[cut:]
    elif r < 0.03:
        b = rng.choice(INVALID)
    return b


def gen_sep(rng):
    r = rng.random()
    if r < 0.70:
        return b" "
    if r < 0.86:
        return rng.choice(SPACES).encode()
    if r < 0.90:
        return (rng.choice(SPACES) + rng.choice(SPACES)).encode()
    if r < 0.93:
        return rng.choice(NOT_SPACES).encode()  # joins two tokens
    if r < 0.96:
        return b" of the "
    return b"\r\n" if rng.random() < 0.5 else b"\n"


def gen_segment(rng, newlines=True):
    """A few tokens with separators; usually a line end."""
    parts = []
    for _ in range(rng.randrange(1, 16)):
        parts.append(gen_token(rng))
        parts.append(gen_sep(rng))
    if newlines:
        r = rng.random()
        parts.append(b"\n" if r < 0.5 else b"\r\n" if r < 0.8 else b"\n\n" if r < 0.85 else b"")
    seg = b"".join(parts)
    return seg if newlines else seg.replace(b"\n", b" ").replace(b"\r", b" ")


def generate(dest, seed, total_mb):
    """Writes the generated inputs into dest and returns their paths."""
    rng = random.Random(seed)
    pool = [gen_segment(rng) for _ in range(20000)]
    flat = [gen_segment(rng, newlines=False) for _ in range(5000)]
    files = {}
    # A line over 2 MiB with whitespace, one over 2 MiB without any, no final newline.
    long1 = b"".join(rng.choices(flat, k=30000))
    while len(long1) < (2 << 20) + 1000:
        long1 += b"".join(rng.choices(flat, k=2000))
    # E2 80 followed by the 80 of another piece would be U+2000, a space.
    nospace = [w.encode() for w in ENGLISH + UNICODE_WORDS + PUNCT] + [b for b in INVALID if b != b"\xe2\x80"]
    long2 = b"".join(rng.choices(nospace, k=500000))
    while len(long2) < (2 << 20) + 1000:
        long2 += b"".join(rng.choices(nospace, k=50000))
    assert len(long2.decode("utf-8", "surrogateescape").split()) == 1
    files[LONG_LINES] = b"short line\n" + long1 + b"\n" + long2 + b"\nthe end of the " + long2[:1000]
    # Edge cases.
    files["gen-empty.txt"] = b""
    files["gen-newline.txt"] = b"\n"
    files["gen-spaces.txt"] = (SPACES * 3).encode()
    files["gen-invalid-only.txt"] = b"".join(INVALID) * 50
    files["gen-bom.txt"] = "\ufeffthe The the\r\n\ufeff\u212aelvin of the sand\r\nthe".encode()
    files["gen-crlf.txt"] = b"the\r\n\r\nThe\r\nof the\r\n--\r\n" * 500 + b"\r"
    files["gen-nofinalnl.txt"] = "the Holmes sand caf\u00e9\n\u212aelvin --the-- of the".encode()
    # Random mixes, the bulk.
    left = max(1_000_000, total_mb * 1_000_000 - sum(map(len, files.values())))
    n = max(1, left // 3_000_000)
    for i in range(n):
        size = left // n
        parts, got = [], 0
        while got < size:
            chunk = rng.choices(pool, k=2000)
            parts.extend(chunk)
            got += sum(map(len, chunk))
        data = b"".join(parts)[:size]  # may end inside a line or a UTF-8 sequence
        files[f"gen-mix-{i}.txt"] = data
    paths = []
    for name, data in files.items():
        p = dest / name
        p.write_bytes(data)
        paths.append(str(p))
    return paths


# --- running tally ------------------------------------------------------------------


class Tally:
    def __init__(self, binary):
        self.binary = binary

    def run(self, args):
        """Runs tally with args; returns (parsed JSON or None, error text, seconds)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
        start = time.monotonic()
        p = subprocess.run([self.binary] + args, capture_output=True, env=env)
        secs = time.monotonic() - start
        if p.returncode != 0:
            return None, f"tally exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[:500]}", secs
        try:
            return json.loads(p.stdout), None, secs
        except ValueError as e:
            return None, f"tally stdout is not JSON: {e}: {p.stdout[:200]!r}", secs


def count_args(mode, ic, targets, chunk):
    args = ["count", "--json", "--stats", "--mode", mode]
    if ic:
        args.append("-i")
    for t in targets:
        args += ["-e", t]
    if chunk:
        args += ["--chunk-size", chunk]
    return args


def top_args(words_only, lower, chunk):
    args = ["top", "--json", "--stats", "-n", "0"]
    if words_only:
        args.append("--words-only")
    if lower:
        args.append("--lower")
    if chunk:
        args += ["--chunk-size", chunk]
    return args


# --- comparing ---------------------------------------------------------------------------


def compare_docs(out, paths, want_docs, key_counts):
    """Differences between tally's documents/total and Python's, as text lines."""
    diffs = []
    docs = out.get("documents", [])
    names = [d.get("name") for d in docs]
    if names != paths:
        return [f"documents: got {len(names)} {names[:3]}..., want {len(paths)} {paths[:3]}..."]
    total = {"bytes": 0, "lines": 0, "tokens": 0}
    tcounts = [0] * len(key_counts[2]) if key_counts else []
    for d, p in zip(docs, paths):
        w = want_docs[p]
        for k in ("bytes", "lines", "tokens"):
            total[k] += w["stats"][k]
            if d.get(k) != w["stats"][k]:
                diffs.append(f"{os.path.basename(p)}: {k}: tally {d.get(k)}, python {w['stats'][k]}")
        if key_counts:
            want = w["counts"][key_counts]
            for i, (t, n) in enumerate(zip(key_counts[2], want)):
                tcounts[i] += n
                got = d.get("counts", {}).get(t)
                if got != n:
                    diffs.append(f"{os.path.basename(p)}: {t!r}: tally {got}, python {n}")
    tot = out.get("total", {})
    for k, n in total.items():
        if tot.get(k) != n:
            diffs.append(f"total: {k}: tally {tot.get(k)}, python {n}")
    if key_counts:
        for t, n in zip(key_counts[2], tcounts):
            if tot.get("counts", {}).get(t) != n:
                diffs.append(f"total: {t!r}: tally {tot.get('counts', {}).get(t)}, python {n}")
    return diffs


def compare_top(out, want_rows):
    got = [(e.get("token"), e.get("count")) for e in out.get("top", [])]
    diffs = []
    for i, (g, w) in enumerate(zip(got, want_rows)):
        if g != w:
            diffs.append(f"entry {i}: tally {g[0]!r}x{g[1]}, python {w[0]!r}x{w[1]}")
            if len(diffs) >= 5:
                break
    if len(got) != len(want_rows):
        diffs.append(f"entries: tally {len(got)}, python {len(want_rows)}")
    return diffs


# --- main ----------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the tally binary")
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the repository root")
    ap.add_argument("--corpora", help="corpora directory (default: ROOT/../shared/corpora)")
    ap.add_argument("--seed", type=int, default=20251122, help="seed of the generated text")
    ap.add_argument("--generated-mb", type=int, default=20, help="size of the generated text in MB")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Python processes")
    ap.add_argument("--keep", action="store_true", help="keep the generated files and print where")
    ap.add_argument("--max-diffs", type=int, default=10, help="differences printed per failed check")
    args = ap.parse_args()
    t0 = time.monotonic()

    # SPEC: whitespace is Go's unicode.IsSpace plus U+001C..U+001F.
    go_space = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
        "\u2028\u2029\u202f\u205f\u3000"
    if sorted(SPACES) != sorted(go_space + "\x1c\x1d\x1e\x1f"):
        print("oracle-check: this Python's whitespace is not SPEC's; cannot check", file=sys.stderr)
        return 2
    check_lower()
    print(f"python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version}; tally {args.bin}")

    corpora = Path(args.corpora) if args.corpora else Path(args.root).parent / "shared" / "corpora"
    corpus_paths = []
    if corpora.is_dir():
        corpus_paths = sorted(str(p) for p in corpora.rglob("*") if p.is_file())
        print(f"corpora: {len(corpus_paths)} files in {corpora}")
    else:
        print(f"corpora: {corpora} not found; skipped, checking generated text only")
    tmp = Path(tempfile.mkdtemp(prefix="tally-oracle-"))
    try:
        gen_paths = generate(tmp, args.seed, args.generated_mb)
        gen_bytes = sum(os.path.getsize(p) for p in gen_paths)
        print(f"generated: {len(gen_paths)} files, {gen_bytes} bytes, seed {args.seed}, in {tmp}")
        paths = corpus_paths + gen_paths
        top_paths = [p for p in corpus_paths if os.path.basename(p) in TOP_BOOKS] + gen_paths
        return run_checks(args, paths, top_paths, t0)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_checks(args, paths, top_paths, t0):
    tally = Tally(args.bin)
    long_paths = [p for p in top_paths if os.path.basename(p) == LONG_LINES]
    subset = [p for p in top_paths if p not in long_paths]
    # (variant, documents) of every top check.
    top_checks = [(v, subset) for v in TOP_VARIANTS] + [(v, long_paths) for v in TOP_VARIANTS]
    top_checks.append(((False, False), paths))
    variants = {p: {(False, False)} for p in paths}
    for v, docs in top_checks:
        for p in docs:
            variants[p].add(v)
    # Python works in a pool while tally runs here; both answers meet below.
    jobs = sorted(((p, sorted(variants[p])) for p in paths), key=lambda j: -os.path.getsize(j[0]))
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ctx.Pool(max(1, args.jobs)) as pool:
        pending = pool.map_async(analyze, jobs, chunksize=1)
        runs = []
        for q in count_queries():
            for chunk in (None, SMALL_CHUNK):
                runs.append(("count", q, None, chunk, tally.run(count_args(*q, chunk) + paths)))
        for i, (v, docs) in enumerate(top_checks):
            chunk = SMALL_CHUNK if i % 2 else None
            runs.append(("top", v, docs, chunk, tally.run(top_args(*v, chunk) + docs)))
        tally_secs = sum(r[4][2] for r in runs)
        results = pending.get()
    want = {r["path"]: r for r in results}
    py_secs = sum(r["seconds"] for r in results)
    print(f"python oracle: {py_secs:.1f}s of CPU in {args.jobs} processes; "
          f"tally: {tally_secs:.1f}s in {len(runs)} runs")

    passed = failed = 0
    for kind, q, docs, chunk, (out, err, secs) in runs:
        if kind == "count":
            mode, ic, targets = q
            name = (f"count --mode {mode}{' -i' if ic else ''} ({len(targets)} targets)"
                    f" --chunk-size {chunk or 'default'}, {len(paths)} documents")
            diffs = [err] if err else compare_docs(out, paths, want, q)
        else:
            words_only, lower = q
            c = Counter()
            for p in docs:
                c.update(want[p]["top"][q])
            table = top_table(c)
            name = (f"top -n 0{' --words-only' if words_only else ''}{' --lower' if lower else ''}"
                    f" --chunk-size {chunk or 'default'}, {len(docs)} documents, {len(table)} entries")
            diffs = [err] if err else compare_docs(out, docs, want, None) + compare_top(out, table)
        if diffs:
            failed += 1
            print(f"FAIL {name} ({secs:.1f}s): {len(diffs)} differences")
            for d in diffs[:args.max_diffs]:
                print(f"     {d}")
        else:
            passed += 1
            print(f"ok   {name} ({secs:.1f}s)")
    print(f"total time {time.monotonic() - t0:.1f}s")
    print(f"oracle-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
