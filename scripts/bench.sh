#!/usr/bin/env bash
# Benchmark: tally and the installed peers side by side on the same input.
#
#   scripts/bench.sh [--install-peers] [--quick] [more flags of scripts/bench, e.g. --out DIR --reps N]
#
# It builds bin/tally, concatenates ../shared/corpora/*.txt (--corpora DIR:
# the *.txt files of another directory, e.g. testdata/text) (and 8 copies of
# that) under ${TMPDIR:-/tmp}/tally-bench, starts a local cluster (a
# coordinator and 2 workers on 127.0.0.1), and runs each job with tally (1
# thread embedded, all cores embedded, the cluster), tally's kernel in RAM
# (go test -bench Corpus ./count/) and the peers that are installed: rg, grep,
# python3, wc, benhoyt/countwords' optimized.c if COUNTWORDS_C names its
# source, and the seed's own word counts: Python (scripts/bench/seed.py:
# split, ThreadPoolExecutor, ProcessPoolExecutor, str.count) and Rust
# (scripts/bench/rust: split_whitespace, rayon par_lines), the latter built
# offline by cargo against Debian's crates. The tools of a job take turns.
# It checks the answers agree where the semantics match, prints one table
# and issue 13's targets, and writes bench/results.txt, bench/results.csv and
# (with gnuplot) bench/results.png. Missing peers are skipped and listed at
# the end. A full run takes about 6-8 minutes on 2 cores; --quick (the corpus
# once, 3 runs per tool, no 5 GB memory test) about two.
#
# Peers (Debian): apt-get install ripgrep gnuplot-nox librust-rayon-dev,
# plus cargo (rustup's, or apt-get install cargo); --install-peers runs that
# apt-get line first. python3, grep, wc and gcc are usually there.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
  case $a in
    --install-peers) apt-get install -y ripgrep gnuplot-nox librust-rayon-dev ;;
    --*) args+=("-${a#--}") ;;
    *) args+=("$a") ;;
  esac
done
# Static (no cgo): a dynamically linked tally spends ~0.5 ms of every start
# in the dynamic loader and libc's CPU probing (CPUID traps on a VM).
CGO_ENABLED=0 go build -o bin/tally ./cmd/tally
go build -o bin/bench ./scripts/bench
exec bin/bench -tally bin/tally "${args[@]}"
