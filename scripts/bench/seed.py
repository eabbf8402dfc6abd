"""The seed's Python word counts, as benchmark peers of scripts/bench.sh.

    python3 seed.py MODE FILE TARGET...

prints "target=count" for each target, in order, on one line. MODE is
  split      one text.split(), then list.count for each target (token mode)
  threads    the same over 2 line-aligned pieces in a ThreadPoolExecutor
  processes  the same over 2 line-aligned pieces in a ProcessPoolExecutor
  strcount   text.count(target): substrings, not tokens (checked against
             tally --mode substring)
The file is read as SPEC.md reads it (UTF-8, surrogateescape).
"""

import concurrent.futures
import sys

WORKERS = 2


def count_tokens(piece, targets):
    words = piece.split()
    return [words.count(t) for t in targets]


def pieces(text, n):
    """Cuts text into n pieces that end at a newline (the last may not)."""
    out, start = [], 0
    for i in range(1, n):
        cut = text.find("\n", max(start, len(text) * i // n))
        if cut < 0:
            break
        out.append(text[start : cut + 1])
        start = cut + 1
    out.append(text[start:])
    return out


def pooled(executor, text, targets):
    with executor(max_workers=WORKERS) as ex:
        parts = list(ex.map(count_tokens, pieces(text, WORKERS), [targets] * WORKERS))
    return [sum(col) for col in zip(*parts)]


def main():
    mode, path, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    if mode == "split":
        counts = count_tokens(text, targets)
    elif mode == "threads":
        counts = pooled(concurrent.futures.ThreadPoolExecutor, text, targets)
    elif mode == "processes":
        counts = pooled(concurrent.futures.ProcessPoolExecutor, text, targets)
    elif mode == "strcount":
        counts = [text.count(t) for t in targets]
    else:
        sys.exit(f"seed.py: unknown mode {mode!r}")
    print(" ".join(f"{t}={n}" for t, n in zip(targets, counts)))


if __name__ == "__main__":
    main()
