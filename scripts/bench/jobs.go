package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// tool is one way to run a job.
type tool struct {
	name  string
	argv  []string
	env   []string
	stdin string // file fed on stdin, or ""
	pipe  bool   // feed stdin through a pipe, as a stream
	// input is "small" for a peer that runs on the small input in a job on
	// the large one (too slow for it): its ratios are per MB. "" is the job's.
	input string
	// answer extracts the answer from stdout, in the form of the reference
	// named by want.
	answer func(out string) (string, error)
	// want names the reference the answer must equal; "" means the tool's
	// semantics differ and note says how.
	want, note string
}

// job is one row group of the table: tally and its peers on one input.
type job struct {
	name   string
	kernel string // BenchmarkCorpus sub-benchmark, or ""
	input  string // "small" (the corpus once) or "large" (the copies)
	// tallyArgs run tally; tallyAnswer reads its JSON into the reference "tally".
	tallyArgs   []string
	tallyAnswer func(tallyJSON) string
	// refs are further references, from untimed tally runs: name -> args and reader.
	refs  map[string]refRun
	peers []tool
	// stdin feeds the input to tally through a pipe, as `-`: a stream that
	// cannot be read in parallel or by reference.
	stdin bool
	// serverPath also times tally naming the input by --server-path: in the
	// cluster, whose workers have no shared root, the coordinator reads its
	// splits and sends them (instead of receiving an upload); embedded, the
	// worker threads read it by reference, as they read a local path.
	serverPath bool
}

type refRun struct {
	args   []string
	answer func(tallyJSON) string
	input  string // "small" to run on the small input; "" is the job's
}

var (
	rare   = []string{"Holmes", "sand", "Rochester"}
	common = strings.Fields("the and of to a in that he was it")
	books  = []string{"pg1661-adventures-of-sherlock-holmes.txt", "pg1260-jane-eyre.txt", "pg2600-war-and-peace.txt"}
)

// countsAnswer is a count job's per-target answer, "t1=n1 t2=n2".
func countsAnswer(targets []string) func(tallyJSON) string {
	return func(t tallyJSON) string {
		var parts []string
		for _, tg := range targets {
			parts = append(parts, fmt.Sprintf("%s=%d", tg, t.Total.Counts[tg]))
		}
		return strings.Join(parts, " ")
	}
}

// sumAnswer is the sum of a count job's counts, for peers that give one total.
func sumAnswer(t tallyJSON) string {
	var n int64
	for _, c := range t.Total.Counts {
		n += c
	}
	return strconv.FormatInt(n, 10)
}

// topAnswer is the first 10 entries of a top job, "tok:n tok:n ...".
func topAnswer(t tallyJSON) string {
	var parts []string
	for i, e := range t.Top {
		if i == 10 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%d", e.Token, e.Count))
	}
	return strings.Join(parts, " ")
}

func statsAnswer(t tallyJSON) string {
	return fmt.Sprintf("lines=%d words=%d bytes=%d", t.Total.Lines, t.Total.Tokens, t.Total.Bytes)
}

// number reads a tool's output that is one integer.
func number(out string) (string, error) {
	s := strings.TrimSpace(out)
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "", fmt.Errorf("%w: %q", errNoAnswer, firstLine(s))
	}
	return s, nil
}

// lines reads a tool's output as is, trimmed: tools that print the answer
// in the reference's form.
func lines(out string) (string, error) {
	s := strings.Join(strings.Fields(out), " ")
	if s == "" {
		return "", errNoAnswer
	}
	return s, nil
}

// topLines reads "token count" lines (as optimized.c prints them, sorted by
// count) into topAnswer's form, ordering ties by token bytes as tally does.
func topLines(out string) (string, error) {
	type entry struct {
		tok string
		n   int64
	}
	var es []entry
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		es = append(es, entry{f[0], n})
		if len(es) > 100 {
			break // sorted by count: the first 10 and their ties are in
		}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		return strings.Compare(a.tok, b.tok)
	})
	var parts []string
	for i, e := range es {
		if i == 10 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%d", e.tok, e.n))
	}
	if len(parts) == 0 {
		return "", errNoAnswer
	}
	return strings.Join(parts, " "), nil
}

// wcAnswer reads `wc -l -w -c FILE`.
func wcAnswer(out string) (string, error) {
	f := strings.Fields(out)
	if len(f) < 3 {
		return "", errNoAnswer
	}
	return fmt.Sprintf("lines=%s words=%s bytes=%s", f[0], f[1], f[2]), nil
}

func targetFlags(flag string, ts []string) []string {
	var out []string
	for _, t := range ts {
		out = append(out, flag, t)
	}
	return out
}

// python3 runs a Python program on the file (sys.argv[1]).
func python3(prog, file string) []string { return []string{"python3", "-c", prog, file} }

const (
	// pyText reads the file as SPEC.md does.
	pyText      = `import sys; text = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read(); `
	pySplitThe  = pyText + `print(text.split().count("the"))`
	pyBytesThe  = `import sys; print(open(sys.argv[1], "rb").read().count(b"the"))`
	pyCounterLo = pyText + `import collections; c = collections.Counter(text.lower().split())
top = sorted(c.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8", "surrogateescape")))[:10]
print(" ".join(f"{w}:{n}" for w, n in top))`
	// pyBooks counts one word in each book given, as a small script would.
	pyBooks = `import sys
total = 0
for path in sys.argv[2:]:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        total += f.read().split().count(sys.argv[1])
print(total)`
)

// jobs is the table's jobs, in order.
func (b *bench) jobs() []job {
	rg := func(extra ...string) []string {
		return append([]string{"rg", "-j1", "--no-config", "--count-matches"}, extra...)
	}
	seedRefs := map[string]refRun{
		"word-sum":        {args: append([]string{"count", "--mode", "word"}, targetFlags("-e", rare)...), answer: sumAnswer},
		"token-small":     {args: append([]string{"count"}, targetFlags("-e", rare)...), answer: countsAnswer(rare), input: "small"},
		"substring-small": {args: append([]string{"count", "--mode", "substring"}, targetFlags("-e", rare)...), answer: countsAnswer(rare), input: "small"},
	}
	wordThe := map[string]refRun{"word": {args: []string{"count", "--mode", "word", "-e", "the"}, answer: sumAnswer}}
	large := b.in.large
	js := []job{
		{
			name: "count token, 3 rare targets (seed job)", kernel: "seed", input: "large", serverPath: true,
			tallyArgs: append([]string{"count"}, targetFlags("-e", rare)...), tallyAnswer: countsAnswer(rare), refs: seedRefs,
			peers: append([]tool{
				{name: "rg -j1 -w (3 patterns)", argv: append(rg("-w"), append(targetFlags("-e", rare), large)...), answer: number,
					want: "word-sum", note: "rg -w is word mode, one total: checked against tally --mode word's sum"},
				{name: "grep -ow | wc -l", argv: []string{"sh", "-c", `LC_ALL=C grep -ow -e Holmes -e sand -e Rochester "$1" | wc -l`, "sh", large}, answer: number,
					want: "word-sum", note: "grep -w is word mode (ASCII word characters under LC_ALL=C)"},
			}, append(b.rustPeers(large, rare), b.pythonSeedPeers(rare)...)...),
		},
		{
			name: "streamed from stdin: count token, 3 rare targets", input: "large", stdin: true,
			tallyArgs: append([]string{"count"}, targetFlags("-e", rare)...), tallyAnswer: countsAnswer(rare),
		},
		{
			name: "statistics (--stats: bytes, lines, tokens)", kernel: "stats", input: "large", serverPath: true,
			tallyArgs: []string{"count", "--stats", "-e", "Holmes"}, tallyAnswer: statsAnswer,
			peers: []tool{
				{name: "wc -l -w -c", argv: []string{"wc", "-l", "-w", "-c", large}, env: []string{"LC_ALL=C.UTF-8"}, answer: wcAnswer, want: "tally",
					note: "wc -w splits on the locale's whitespace"},
			},
		},
		{
			name: "count token, the", kernel: "the-token", input: "large", serverPath: true,
			tallyArgs: []string{"count", "-e", "the"}, tallyAnswer: countsAnswer([]string{"the"}), refs: wordThe,
			peers: append([]tool{
				{name: "rg -j1 -w", argv: rg("-w", "the", large), answer: number, want: "word",
					note: "rg -w is word mode: checked against tally --mode word"},
			}, b.rustPeers(large, []string{"the"})...),
		},
		{
			name: "count token, the (Python-sized input)", kernel: "the-token", input: "small", serverPath: true,
			tallyArgs: []string{"count", "-e", "the"}, tallyAnswer: countsAnswer([]string{"the"}),
			peers: []tool{
				{name: `python3 text.split().count`, argv: python3(pySplitThe, b.in.small), answer: func(s string) (string, error) {
					n, err := number(s)
					return "the=" + n, err
				}, want: "tally"},
			},
		},
		{
			name: "count word, the", kernel: "the-word", input: "large", serverPath: true,
			tallyArgs: []string{"count", "--mode", "word", "-e", "the"}, tallyAnswer: countsAnswer([]string{"the"}),
			peers: []tool{
				{name: "rg -j1 -w", argv: rg("-w", "the", large), answer: func(s string) (string, error) {
					n, err := number(s)
					return "the=" + n, err
				}, want: "tally"},
			},
		},
		{
			name: "count substring, the", kernel: "the-substring", input: "large", serverPath: true,
			tallyArgs: []string{"count", "--mode", "substring", "-e", "the"}, tallyAnswer: countsAnswer([]string{"the"}),
			peers: []tool{
				{name: "rg -j1 -F", argv: rg("-F", "the", large), answer: prefixed("the="), want: "tally"},
				{name: "python3 bytes.count", argv: python3(pyBytesThe, large), answer: prefixed("the="), want: "tally"},
			},
		},
		{
			name: "count word, 10 common targets", kernel: "ten-word", input: "large", serverPath: true,
			tallyArgs:   append([]string{"count", "--mode", "word"}, targetFlags("-e", common)...),
			tallyAnswer: countsAnswer(common), refs: map[string]refRun{"sum": {args: append([]string{"count", "--mode", "word"}, targetFlags("-e", common)...), answer: sumAnswer}},
			peers: []tool{
				{name: "rg -j1 -w (10 patterns)", argv: rg(append(append([]string{"-w"}, targetFlags("-e", common)...), large)...), answer: number,
					want: "sum", note: "rg gives one total: checked against the sum of tally's counts"},
			},
		},
		{
			name: "top --lower (full table)", kernel: "top-lower", input: "small", serverPath: true,
			tallyArgs: []string{"top", "--lower", "-n", "0"}, tallyAnswer: topAnswer, // the whole table, as optimized.c prints it
			peers: []tool{
				{name: "python3 Counter(text.lower().split())", argv: python3(pyCounterLo, b.in.small), answer: lines, want: "tally",
					note: "first 10 entries compared"},
			},
		},
	}
	if b.countwords != "" {
		top := &js[len(js)-1]
		top.peers = append(top.peers, tool{name: "countwords optimized.c", argv: []string{b.countwords}, stdin: b.in.small, answer: topLines,
			note: "ASCII-only rules: it lower-cases A-Z only and splits on every byte <= ' ', bytes >= 0x80 included (signed char)"})
	}
	var paths []string
	for _, bk := range books {
		paths = append(paths, filepath.Join(b.cfg.corpora, bk))
	}
	if abs, err := absAll(paths); err == nil {
		js = append(js, job{
			name: "small job: 3 books, token Holmes", input: "books",
			tallyArgs: append([]string{"count", "-e", "Holmes"}, abs...), tallyAnswer: sumAnswer,
			peers: []tool{
				{name: "python3 script (read, split().count)", argv: append([]string{"python3", "-c", pyBooks, "Holmes"}, abs...), answer: number, want: "tally"},
			},
		})
	}
	return js
}

// rustPeers are the seed's Rust word count on file, sequential and with
// rayon on every core, or none when it was not built (a note says why).
func (b *bench) rustPeers(file string, targets []string) []tool {
	if b.seedcount == "" {
		return nil
	}
	const note = "split_whitespace splits on Unicode White_Space: Python's set without U+001C..U+001F"
	return []tool{
		{name: "Rust split_whitespace, 1 thread", argv: append([]string{b.seedcount, file}, targets...), answer: lines, want: "tally", note: note},
		{name: fmt.Sprintf("Rust rayon par_lines, %d threads", cores()), argv: append([]string{b.seedcount, "--par", file}, targets...),
			env: []string{fmt.Sprintf("RAYON_NUM_THREADS=%d", cores())}, answer: lines, want: "tally", note: note},
	}
}

// pythonSeedPeers are the seed's Python word counts (seed.py), on the small
// input: on the large one they would take most of the run. Their ratios are
// per MB.
func (b *bench) pythonSeedPeers(targets []string) []tool {
	if b.seedPy == "" {
		return nil
	}
	py := func(name, mode, want, note string) tool {
		return tool{name: name, argv: append([]string{"python3", b.seedPy, mode, b.in.small}, targets...), input: "small",
			answer: lines, want: want, note: note}
	}
	perMB := fmt.Sprintf("ran on the %.0f MB input, compared per MB", mb(b.in.smallSize))
	return []tool{
		py("python3 text.split(), list.count per target", "split", "token-small", perMB),
		py("python3 ThreadPoolExecutor, 2 workers", "threads", "token-small", perMB+"; 2 line-aligned pieces"),
		py("python3 ProcessPoolExecutor, 2 workers", "processes", "token-small", perMB+"; 2 line-aligned pieces"),
		py("python3 str.count per target", "strcount", "substring-small", perMB+"; substrings, checked against tally --mode substring"),
	}
}

func prefixed(p string) func(string) (string, error) {
	return func(s string) (string, error) {
		n, err := number(s)
		return p + n, err
	}
}

func absAll(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
