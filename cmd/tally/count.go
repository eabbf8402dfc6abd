package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/internal/localfile"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/source"
)

// jobFlags are the flags count and top share.
type jobFlags struct {
	chunkSize   sizeFlag
	json        bool
	format      string
	totalsOnly  bool
	quiet       bool
	progress    string
	blockSize   sizeFlag
	conn        connFlags
	stores      storeFlags
	serverPaths multiFlag
	hidden      bool
	stats       bool
	skip        bool // --skip-unreadable
}

func (f *jobFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.hidden, "hidden", false, "also read files and directories whose names start with . inside given directories")
	fs.Var(&f.serverPaths, "server-path", "a document on the coordinator's side, inside its --data-dir (repeatable; counted first, not uploaded)")
	fs.Var(&f.chunkSize, "chunk-size", "target chunk size, e.g. 1MiB (default: the coordinator's, 1MiB)")
	fs.Var(&f.blockSize, "block-size", "bytes of a stored document (server path, s3:// URL, local file in embedded mode) that one task reads (default: the coordinator's: 16MiB, or the chunk size in embedded mode)")
	fs.BoolVar(&f.json, "json", false, "print exactly one JSON object on stdout (same as --format json)")
	fs.StringVar(&f.format, "format", "table", "output format: table, json or csv")
	fs.BoolVar(&f.totalsOnly, "totals-only", false, "print only the total, not a row per document")
	fs.BoolVar(&f.skip, "skip-unreadable", false, "warn about each file or directory that cannot be read and count the rest (listed as skipped in the output), instead of failing")
	fs.BoolVar(&f.stats, "stats", false, "also count each document's lines and tokens (len(text.split())), shown as columns and JSON fields; they cost a pass over the text that counting does not make otherwise")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr (same as --progress never)")
	fs.StringVar(&f.progress, "progress", "auto", "progress line on stderr: auto (when stderr is a terminal), always or never")
	f.conn.register(fs, "", "coordinator HOST[:PORT] (port "+defaultPort+" when not given); empty runs an embedded coordinator and worker in this process")
	f.stores.register(fs)
}

func runCount(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("count", "tally count [--mode token|word|substring] [-i] -e TARGET [-e TARGET]... [--targets-file FILE] [--stats] [--chunk-size SIZE] [--json] [--coordinator HOST:PORT] [--server-path PATH]... [PATH | s3://BUCKET/KEY...]")
	var jf jobFlags
	jf.register(fs)
	mode := fs.String("mode", "token", "what a match is: token (whole whitespace-separated token), word (like grep -w) or substring")
	ignoreCase := fs.Bool("i", false, "ignore case, as Python's re.IGNORECASE")
	var targets multiFlag
	fs.Var(&targets, "e", "a target to count (repeatable)")
	targetsFile := fs.String("targets-file", "", "file with one target per line (added to -e targets)")
	paths, err := parse(fs, args, e.stdout)
	if err != nil {
		return err
	}
	if err := jf.checkFormat(); err != nil {
		return err
	}
	m, err := query.ParseMode(*mode)
	if err != nil {
		return usageError{err.Error()}
	}
	if *targetsFile != "" {
		more, err := readTargets(*targetsFile)
		if err != nil {
			return usageError{err.Error()}
		}
		targets = append(targets, more...)
	}
	if len(targets) == 0 {
		return usagef("no targets: give at least one -e TARGET or --targets-file FILE")
	}
	q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: m, Targets: targets, IgnoreCase: *ignoreCase}, Stats: jf.stats}}
	if err := q.Spec.Validate(); err != nil {
		return usageError{err.Error()}
	}
	res, skipped, err := runJob(ctx, e, jf, q, paths)
	if err != nil {
		return err
	}
	switch jf.format {
	case "json":
		out := countJSON(res, q)
		out.Skipped = skipped
		return writeJSON(e.stdout, out)
	case "csv":
		return writeCountCSV(e.stdout, res, targets)
	}
	if err := writeCountTable(e.stdout, res, targets); err != nil {
		return err
	}
	return writeSkipped(e.stdout, skipped)
}

func runTop(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("top", "tally top [-n K] [--words-only] [--lower] [--stats] [--chunk-size SIZE] [--json] [--coordinator HOST:PORT] [--server-path PATH]... [PATH | s3://BUCKET/KEY...]")
	var jf jobFlags
	jf.register(fs)
	n := fs.Int("n", 10, "how many entries to show; 0 shows all")
	wordsOnly := fs.Bool("words-only", false, "count runs of word characters instead of whitespace-separated tokens")
	lower := fs.Bool("lower", false, "lower-case every token before counting")
	paths, err := parse(fs, args, e.stdout)
	if err != nil {
		return err
	}
	if err := jf.checkFormat(); err != nil {
		return err
	}
	if *n < 0 {
		return usagef("-n %d: give 0 (all) or a positive number", *n)
	}
	q := query.Job{Spec: query.Spec{Top: &query.Top{WordsOnly: *wordsOnly, Lower: *lower}, Stats: jf.stats}, TopLimit: *n}
	res, skipped, err := runJob(ctx, e, jf, q, paths)
	if err != nil {
		return err
	}
	switch jf.format {
	case "json":
		out := topJSON(res, q)
		out.Skipped = skipped
		return writeJSON(e.stdout, out)
	case "csv":
		return writeTopCSV(e.stdout, res)
	}
	if err := writeTopTable(e.stdout, res); err != nil {
		return err
	}
	return writeSkipped(e.stdout, skipped)
}

// runJob runs q over paths on the named coordinator or an embedded one:
// server paths first, then s3:// URLs, then local paths, whatever their
// order on the command line. With --skip-unreadable it also returns the
// local files and directories it left out, having warned of each.
func runJob(ctx context.Context, e env, jf jobFlags, q query.Job, paths []string) (*client.Result, []skippedJSON, error) {
	if len(paths) == 0 && len(jf.serverPaths) == 0 && stdinPiped(e.stdin) {
		paths = []string{"-"} // as rg and wc read a pipe or a redirected file
	}
	if len(paths) == 0 && len(jf.serverPaths) == 0 {
		return nil, nil, usagef("no input: give at least one PATH (a file, a directory, - for stdin, or an s3://BUCKET/KEY URL) or --server-path, or pipe the text in")
	}
	var urls, local []string
	for _, p := range paths {
		if source.IsURL(p) {
			urls = append(urls, p)
		} else {
			local = append(local, p)
		}
	}
	opts := client.FileOptions{Hidden: jf.hidden}
	var skipped []skippedJSON
	if jf.skip {
		opts.OnUnreadable = func(u *client.UnreadableError) {
			fmt.Fprintf(e.stderr, "tally: skipped %s: %v\n", u.Name, u.Err)
			skipped = append(skipped, skippedJSON{Name: u.Name, Error: u.Err.Error()})
		}
	}
	docs, err := client.FileDocuments(local, e.stdin, opts)
	if errors.As(err, new(*client.UnreadableError)) {
		return nil, nil, err // the input failed the job: exit 1, not a usage error
	}
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	c, err := connect(jf.conn, jf.stores)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	var onProgress func(client.Progress)
	if jf.showProgress(e) {
		var total int64 // server paths and URLs are sized by the coordinator, as it lists them
		if sum, all := docBytes(docs); all && len(urls) == 0 && len(jf.serverPaths) == 0 {
			total = sum
		}
		bar := newProgressLine(e.stderr, total)
		defer bar.done()
		onProgress = bar.show
	}
	res, err := c.Run(ctx, client.Job{Query: q, ChunkSize: int(jf.chunkSize), BlockSize: int(jf.blockSize),
		ServerPaths: jf.serverPaths, URLs: urls, Hidden: jf.hidden, Documents: docs}, onProgress)
	if err == nil && jf.totalsOnly {
		res.Documents = nil
	}
	return res, skipped, err
}

// docBytes is the sum of the documents' sizes that are known, and whether
// all are (stdin and a compressed file are not).
func docBytes(docs []client.Document) (sum int64, all bool) {
	all = true
	for _, d := range docs {
		if d.Size <= 0 {
			all = false
			continue
		}
		sum += d.Size
	}
	return sum, all
}

// checkFormat settles --format and its --json synonym.
func (f *jobFlags) checkFormat() error {
	if f.json {
		if f.format != "table" && f.format != "json" {
			return usagef("--json and --format %s disagree", f.format)
		}
		f.format = "json"
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress %q: want auto, always or never", f.progress)
	}
	switch f.format {
	case "table", "json", "csv":
		return nil
	}
	return usagef("--format %q: want table, json or csv", f.format)
}

// showProgress decides whether to draw the progress line.
func (f *jobFlags) showProgress(e env) bool {
	switch {
	case f.quiet || f.progress == "never":
		return false
	case f.progress == "always":
		return true
	}
	return isTerminal(e.stderr)
}

// readTargets reads one target per line; blank lines are skipped, and a CR
// before the newline is dropped. It must be a regular file, as inputs must:
// a named pipe's open would block.
func readTargets(path string) ([]string, error) {
	f, _, err := localfile.OpenRegular(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read targets file %s: %w", localfile.DisplayName(path), err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if t := strings.TrimSuffix(sc.Text(), "\r"); t != "" {
			out = append(out, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read targets file %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, errors.New("targets file " + path + " has no targets")
	}
	return out, nil
}
