package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	zen := filepath.Join(textDir, "zen.txt")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string // in the one line on stderr
	}{
		// A file that cannot be read fails the job (exit 1): the input's fault.
		{"missing file", []string{"count", "-e", "the", "no/such/file.txt"}, 1, []string{"no/such/file.txt"}},
		{"missing file among others", []string{"count", "-e", "the", zen, "nosuch.txt"}, 1, []string{"nosuch.txt"}},
		{"missing file top", []string{"top", "nosuch.txt"}, 1, []string{"nosuch.txt"}},
		{"empty target", []string{"count", "-e", "", zen}, 2, []string{"empty"}},
		{"empty target among others", []string{"count", "-e", "the", "-e", "", zen}, 2, []string{"empty"}},
		{"newline in target", []string{"count", "--mode", "word", "-e", "a\nb", zen}, 2, []string{"newline"}},
		{"unknown mode", []string{"count", "--mode", "foo", "-e", "the", zen}, 2, []string{"foo"}},
		{"no targets", []string{"count", zen}, 2, []string{"target"}},
		{"no paths", []string{"count", "-e", "the"}, 2, []string{"PATH"}},
		{"no paths top", []string{"top"}, 2, []string{"PATH"}},
		{"token target with space", []string{"count", "-e", "of the", zen}, 2, []string{"of the", "whitespace"}},
		{"token target with tab", []string{"count", "--mode", "token", "-e", "a\tb", zen}, 2, []string{"whitespace"}},
		{"token target with NBSP", []string{"count", "-e", "a\u00a0b", zen}, 2, []string{"whitespace"}},
		{"token target with U+001F", []string{"count", "-e", "a\x1fb", zen}, 2, []string{"whitespace"}},
		{"chunk size 0", []string{"count", "--chunk-size", "0", "-e", "the", zen}, 2, []string{"chunk-size", "0"}},
		{"chunk size junk", []string{"top", "--chunk-size", "lots", zen}, 2, []string{"chunk-size"}},
		{"negative n", []string{"top", "-n", "-1", zen}, 2, []string{"-1"}},
		{"unknown flag", []string{"count", "--frobnicate", "-e", "the", zen}, 2, []string{"frobnicate"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"frobnicate"}},
		{"stdin twice", []string{"count", "-e", "the", "-", "-"}, 2, []string{"stdin"}},
		{"no command", nil, 2, []string{"usage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runTally(t, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("tally %q: got exit %d, want %d (%v)", tt.args, r.code, tt.code, r)
			}
			if r.stdout != "" {
				t.Errorf("tally %q: got stdout %q, want none", tt.args, clip(r.stdout))
			}
			if tt.args != nil {
				checkOneLine(t, tt.args, r.stderr, tt.contains...)
			} else if !strings.Contains(r.stderr, "usage") {
				t.Errorf("tally: got stderr %q, want the usage", clip(r.stderr))
			}
		})
	}
}

// checkOneLine checks that stderr is one line that contains each of want.
func checkOneLine(t testing.TB, args []string, stderr string, want ...string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("tally %q: got stderr %q, want exactly one line", args, clip(stderr))
	}
	if !strings.HasPrefix(stderr, "tally") {
		t.Errorf("tally %q: got stderr %q, want it to start with \"tally\"", args, clip(stderr))
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("tally %q: got stderr %q, want it to mention %q", args, clip(stderr), w)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		r := runTally(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "tally count") || r.stderr != "" {
			t.Errorf("tally %q: got %v, want exit 0 and the usage on stdout", args, r)
		}
	}
	for _, args := range [][]string{{"count", "--help"}, {"top", "-h"}, {"cluster", "--help"}, {"jobs", "--help"}, {"worker", "--help"}, {"coordinator", "--help"}} {
		r := runTally(t, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: tally "+args[0]) || !strings.Contains(r.stdout, "[TALLY_") || r.stderr != "" {
			t.Errorf("tally %q: got %v, want exit 0 and the command's usage with its environment variables on stdout", args, r)
		}
		if !strings.Contains(r.stdout, "\nexamples:\n  tally "+args[0]+" ") {
			t.Errorf("tally %q: got\n%s\nwant examples of tally %s at the end", args, r.stdout, args[0])
		}
	}
}

// TestPipedStdin: given no PATH, the binary counts stdin when it is a pipe or
// a redirected file, as rg and wc do, and asks for an input when it is not.
func TestPipedStdin(t *testing.T) {
	t.Parallel()
	text := "the cat the\nhat the"
	cmd := exec.Command(tallyBin, "count", "-e", "the", "--json")
	cmd.Stdin = strings.NewReader(text) // exec feeds it through a pipe
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("echo ... | tally count -e the: %v", err)
	}
	var o countOut
	decodeOne(t, string(out), &o)
	if len(o.Documents) != 1 || o.Documents[0].Name != "-" || o.Total.Counts["the"] != 3 || o.Total.Bytes != int64(len(text)) {
		t.Errorf("piped: got %+v, want one document \"-\" of %d bytes with the=3", o, len(text))
	}
	f, err := os.Open(filepath.Join(textDir, "zen.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd = exec.Command(tallyBin, "count", "-e", "is", "--json")
	cmd.Stdin = f // a redirected file
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("tally count -e is < zen.txt: %v", err)
	}
	decodeOne(t, string(out), &o)
	if want := runJSON(t, "count", "-e", "is", filepath.Join(textDir, "zen.txt")); o.Total.Counts["is"] != want.Total.Counts["is"] {
		t.Errorf("redirected: got is=%d, want %d", o.Total.Counts["is"], want.Total.Counts["is"])
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	cmd = exec.Command(tallyBin, "count", "-e", "the")
	cmd.Stdin = null
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "no input") {
		t.Errorf("tally count -e the < /dev/null: got %v, stderr %q; want exit 2 and \"no input\"", err, stderr.String())
	}
}

// TestSkipUnreadable: a file that cannot be read fails the job with exit 1
// (the input's fault, not a usage error), or with --skip-unreadable is
// warned of, left out, and listed in the table's footer and the JSON.
func TestSkipUnreadable(t *testing.T) {
	t.Parallel()
	zen, missing := filepath.Join(textDir, "zen.txt"), filepath.Join(t.TempDir(), "gone.txt")
	if r := runTally(t, "", "count", "-e", "is", zen, missing); r.code != 1 || !strings.Contains(r.stderr, "cannot read "+missing) || r.stdout != "" {
		t.Errorf("without --skip-unreadable: got %v, want exit 1 naming %s and no output", r, missing)
	}
	want := runJSON(t, "count", "-e", "is", zen)
	for _, cmd := range []string{"count", "top"} {
		args := []string{cmd, "--skip-unreadable", zen, missing, "--json"}
		if cmd == "count" {
			args = append(args, "-e", "is")
		}
		r := runTally(t, "", args...)
		if r.code != 0 || r.stderr != "tally: skipped "+missing+": no such file or directory\n" {
			t.Fatalf("tally %q: got %v, want exit 0 and one warning naming %s", args, r, missing)
		}
		checkContract(t, cmd, r.stdout)
		var o struct {
			countOut
			Skipped []skippedJSON `json:"skipped"`
		}
		decodeOne(t, r.stdout, &o)
		if len(o.Documents) != 1 || o.Total.Bytes != want.Total.Bytes || cmd == "count" && o.Total.Counts["is"] != want.Total.Counts["is"] {
			t.Errorf("tally %q: got %+v, want zen.txt counted alone", args, o.countOut)
		}
		if len(o.Skipped) != 1 || o.Skipped[0] != (skippedJSON{Name: missing, Error: "no such file or directory"}) {
			t.Errorf("tally %q: skipped %+v, want [%s: no such file or directory]", args, o.Skipped, missing)
		}
	}
	table := runTally(t, "", "count", "--skip-unreadable", "-e", "is", zen, missing)
	if !strings.HasSuffix(table.stdout, "skipped, could not be read: 1\n  "+missing+": no such file or directory\n") {
		t.Errorf("table: got\n%s\nwant a footer listing %s", table.stdout, missing)
	}
	if out := mustRun(t, "count", "--skip-unreadable", "--json", "-e", "is", zen); strings.Contains(out, "skipped") {
		t.Errorf("nothing skipped: got %s, want no skipped field", out)
	}
}

// TestVersion: the built binary names itself, its module version and the Go
// toolchain that built it, with the commit when the build recorded one.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := runTally(t, "", args...)
		line := strings.TrimSuffix(r.stdout, "\n")
		if r.code != 0 || r.stderr != "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "tally ") ||
			!strings.Contains(line, " "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("tally %q: got %v, want exit 0 and one line \"tally VERSION [commit C] %s %s/%s\"", args, r, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
	}
}

// TestBinaryErrors runs the built binary, to see all it writes to stderr
// (the flag package writes to the process's stderr, not to env.stderr).
func TestBinaryErrors(t *testing.T) {
	t.Parallel()
	zen := filepath.Join(textDir, "zen.txt")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"count", "-e", "the", "no/such/file.txt"}, 1, "cannot read no/such/file.txt: no such file or directory"},
		{[]string{"count", "-e", "", zen}, 2, "empty"},
		{[]string{"count", "--mode", "foo", "-e", "x", zen}, 2, "foo"},
		{[]string{"count", "--chunk-size", "0", "-e", "x", zen}, 2, "chunk-size"},
		{[]string{"bogus"}, 2, "bogus"},
		{[]string{"count", "--bogus", "-e", "x", zen}, 2, "unknown flag --bogus (see tally count --help)"},
		{[]string{"top", "--chunk-size", "lots", zen}, 2, `invalid value "lots" for flag --chunk-size`},
		{[]string{"top", "-n", "many", zen}, 2, `invalid value "many" for flag -n`},
		{[]string{"count", "-e", "the", "--coordinator", "127.0.0.1:1", zen}, 1, "coordinator"},
	} {
		cmd := exec.Command(tallyBin, tt.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || stdout.Len() != 0 {
			t.Errorf("tally %q: got exit %d, stdout %q; want exit %d and no stdout", tt.args, code, stdout.String(), tt.code)
		}
		checkOneLine(t, tt.args, stderr.String(), tt.want)
	}
}

// TestJobFails checks that a job that cannot run exits 1 with one line naming the coordinator.
func TestJobFails(t *testing.T) {
	t.Parallel()
	zen := filepath.Join(textDir, "zen.txt")
	for _, args := range [][]string{
		{"count", "-e", "the", "--coordinator", "127.0.0.1:1", zen, "--json"},
		{"top", "--coordinator", "127.0.0.1:1", zen},
		{"cluster", "--coordinator", "127.0.0.1:1"},
		{"jobs", "list", "--coordinator", "127.0.0.1:1"},
	} {
		r := runTally(t, "", args...)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("tally %q: got %v, want exit 1 and no stdout", args, r)
		}
		checkOneLine(t, args, r.stderr, "coordinator")
	}
}

// TestJobFailsEnv names the unreachable coordinator through TALLY_COORDINATOR.
func TestJobFailsEnv(t *testing.T) {
	t.Setenv("TALLY_COORDINATOR", "127.0.0.1:1")
	args := []string{"count", "-e", "the", filepath.Join(textDir, "zen.txt")}
	r := runTally(t, "", args...)
	if r.code != 1 {
		t.Errorf("TALLY_COORDINATOR=127.0.0.1:1 tally %q: got %v, want exit 1", args, r)
	}
	checkOneLine(t, args, r.stderr, "coordinator")
}

func TestDirectories(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{
		"b.txt":        "the cat\n",
		"A.txt":        "the the\n",
		"a/z.txt":      "the\n",
		"a/b/c.txt":    "a the b\n",
		"a/b/empty":    "",
		"c/.hidden":    "the x\n",
		"c/d/e/f.text": "x\n\n\nthe",
	}
	for name, text := range files {
		writeFile(t, root, name, []byte(text))
	}
	if err := os.Symlink(filepath.Join(root, "b.txt"), filepath.Join(root, "c", "link.txt")); err != nil {
		t.Logf("no symlink: %v", err)
	}
	// filepath.WalkDir order: each directory's entries in lexical byte order;
	// hidden files only with --hidden.
	for _, tt := range []struct {
		args      []string
		wantNames []string
		wantTotal int64
	}{
		{[]string{root}, []string{"A.txt", "a/b/c.txt", "a/b/empty", "a/z.txt", "b.txt", "c/d/e/f.text"}, 6},
		{[]string{root + "/"}, []string{"A.txt", "a/b/c.txt", "a/b/empty", "a/z.txt", "b.txt", "c/d/e/f.text"}, 6},
		{[]string{"--hidden", root}, []string{"A.txt", "a/b/c.txt", "a/b/empty", "a/z.txt", "b.txt", "c/.hidden", "c/d/e/f.text"}, 7},
	} {
		arg, wantNames := strings.Join(tt.args, " "), tt.wantNames
		o := runJSON(t, append([]string{"count", "-e", "the"}, tt.args...)...)
		var got []string
		for _, d := range o.Documents {
			rel, ok := strings.CutPrefix(d.Name, filepath.Clean(root)+"/")
			if !ok {
				t.Errorf("count %s: got document %q, want a name under %s", arg, d.Name, root)
			}
			got = append(got, rel)
			if want := tokenCount(files[rel], "the"); d.Counts["the"] != want {
				t.Errorf("count %s: %s: got %d, want %d", arg, rel, d.Counts["the"], want)
			}
			if want := int64(len(files[rel])); d.Bytes != want {
				t.Errorf("count %s: %s: got %d bytes, want %d", arg, rel, d.Bytes, want)
			}
		}
		if !slices.Equal(got, wantNames) {
			t.Errorf("count %s: got documents %q, want %q", arg, got, wantNames)
		}
		if o.Total.Counts["the"] != tt.wantTotal {
			t.Errorf("count %s: got total %d, want %d", arg, o.Total.Counts["the"], tt.wantTotal)
		}
	}
	// A subdirectory, a file and the root again: documents in argument order, repeats counted again.
	o := runJSON(t, "count", "-e", "the", filepath.Join(root, "a"), filepath.Join(root, "b.txt"), filepath.Join(root, "b.txt"))
	var got []string
	for _, d := range o.Documents {
		got = append(got, d.Name)
	}
	want := []string{filepath.Join(root, "a/b/c.txt"), filepath.Join(root, "a/b/empty"), filepath.Join(root, "a/z.txt"), filepath.Join(root, "b.txt"), filepath.Join(root, "b.txt")}
	if !slices.Equal(got, want) {
		t.Errorf("got documents %q, want %q", got, want)
	}
	if o.Total.Counts["the"] != 4 || o.Total.Bytes != 8+0+4+8+8 {
		t.Errorf("got total %+v, want 4 \"the\" in 28 bytes", o.Total)
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	text := "the cat and the hat\nThe end\r\nthe"
	for _, args := range [][]string{
		{"count", "-e", "the", "-e", "The", "--json", "--stats", "-"},
		{"count", "-e", "the", "-e", "The", "-", "--json", "--stats"},
	} {
		r := runTally(t, text, args...)
		if r.code != 0 {
			t.Fatalf("tally %q: got %v, want exit 0", args, r)
		}
		var o countOut
		decodeOne(t, r.stdout, &o)
		want := docOut{Name: "-", Bytes: int64(len(text)), Lines: 2, Tokens: 8, Counts: map[string]int64{"the": 3, "The": 1}}
		if len(o.Documents) != 1 || fmt.Sprint(o.Documents[0]) != fmt.Sprint(want) {
			t.Errorf("tally %q: got %+v, want one document %+v", args, o.Documents, want)
		}
	}
	// stdin among files.
	zen := filepath.Join(textDir, "zen.txt")
	r := runTally(t, "is is", "count", "-e", "is", zen, "-", zen, "--json")
	var o countOut
	decodeOne(t, r.stdout, &o)
	if len(o.Documents) != 3 || o.Documents[1].Name != "-" || o.Documents[1].Counts["is"] != 2 || o.Total.Counts["is"] != 2*o.Documents[0].Counts["is"]+2 {
		t.Errorf("zen, -, zen: got %+v, want stdin second with 2", o.Documents)
	}
	// top from stdin.
	r = runTally(t, "b a b\nc b a", "top", "-n", "0", "--json", "-")
	decodeOne(t, r.stdout, &o)
	if want := []topItem{{"b", 3}, {"a", 2}, {"c", 1}}; !slices.Equal(o.Top, want) {
		t.Errorf("top -: got %v, want %v", o.Top, want)
	}
}

func TestSameFileTwice(t *testing.T) {
	t.Parallel()
	zen := filepath.Join(textDir, "zen.txt")
	once := runJSON(t, "count", "-e", "is", zen)
	twice := runJSON(t, "count", "-e", "is", zen, zen)
	if len(twice.Documents) != 2 || fmt.Sprint(twice.Documents[0]) != fmt.Sprint(twice.Documents[1]) {
		t.Fatalf("got %+v, want two equal documents", twice.Documents)
	}
	if got, want := twice.Total.Counts["is"], 2*once.Total.Counts["is"]; got != want {
		t.Errorf("total: got %d, want %d", got, want)
	}
	if got, want := twice.Total.Bytes, 2*once.Total.Bytes; got != want {
		t.Errorf("total bytes: got %d, want %d", got, want)
	}
	top1 := runJSON(t, "top", "-n", "0", zen)
	top2 := runJSON(t, "top", "-n", "0", zen, zen)
	for i := range top1.Top {
		top1.Top[i].Count *= 2
	}
	checkTop(t, "top zen zen", top2.Top, top1.Top)
}

func TestFlagsAfterPaths(t *testing.T) {
	t.Parallel()
	alice := filepath.Join(textDir, "alice.txt")
	want := runJSON(t, "count", "-e", "the", "--mode", "word", alice).answer()
	for _, args := range [][]string{
		{"count", alice, "-e", "the", "--mode", "word"},
		{"count", "-e", "the", alice, "--mode=word"},
		{"count", "--mode", "word", alice, "-e", "the"},
	} {
		if got := runJSON(t, args...).answer(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("tally %q: got %+v, want %+v", args, got, want)
		}
	}
	// The order from the PyO3 example, --json last.
	r := runTally(t, "", "count", alice, "-e", "the", "--json")
	if r.code != 0 {
		t.Fatalf("got %v, want exit 0", r)
	}
	checkContract(t, "count", r.stdout)
	// After --, everything is a path.
	r = runTally(t, "", "count", "-e", "the", "--", "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot read --json") {
		t.Errorf("count -e the -- --json: got %v, want exit 1 naming the file --json", r)
	}
}

// TestEnvironment sets flags through TALLY_* variables (not parallel: t.Setenv).
func TestEnvironment(t *testing.T) {
	alice := filepath.Join(textDir, "alice.txt")
	word := runJSON(t, "count", "--mode", "word", "-e", "the", "-e", "Alice", alice)
	wordI := runJSON(t, "count", "--mode", "word", "-i", "-e", "the", "-e", "Alice", alice)
	substr := runJSON(t, "count", "--mode", "substring", "-e", "the", "-e", "Alice", alice)

	t.Setenv("TALLY_MODE", "word")
	got := runJSON(t, "count", "-e", "the", "-e", "Alice", alice)
	if got.Mode != "word" || fmt.Sprint(got.answer()) != fmt.Sprint(word.answer()) {
		t.Errorf("TALLY_MODE=word: got mode %s %+v, want word %+v", got.Mode, got.answer(), word.answer())
	}
	// A flag overrides the environment.
	got = runJSON(t, "count", "--mode", "substring", "-e", "the", "-e", "Alice", alice)
	if got.Mode != "substring" || fmt.Sprint(got.answer()) != fmt.Sprint(substr.answer()) {
		t.Errorf("TALLY_MODE=word --mode substring: got mode %s, want substring", got.Mode)
	}
	t.Setenv("TALLY_I", "true")
	t.Setenv("TALLY_E", "the\nAlice")
	t.Setenv("TALLY_JSON", "1")
	t.Setenv("TALLY_CHUNK_SIZE", "4KiB")
	out := mustRun(t, "count", alice)
	checkContract(t, "count", out)
	decodeOne(t, out, &got)
	if !got.IgnoreCase || !slices.Equal(got.Targets, []string{"the", "Alice"}) || fmt.Sprint(got.answer()) != fmt.Sprint(wordI.answer()) {
		t.Errorf("TALLY_I, TALLY_E, TALLY_JSON: got %+v, want %+v", got, wordI)
	}
	t.Setenv("TALLY_MODE", "foo")
	r := runTally(t, "", "count", alice)
	if r.code != 2 {
		t.Errorf("TALLY_MODE=foo: got %v, want exit 2", r)
	}
	t.Setenv("TALLY_MODE", "token")
	t.Setenv("TALLY_CHUNK_SIZE", "0")
	r = runTally(t, "", "count", alice)
	if r.code != 2 || !strings.Contains(r.stderr, "TALLY_CHUNK_SIZE") {
		t.Errorf("TALLY_CHUNK_SIZE=0: got %v, want exit 2 naming the variable", r)
	}
}

func TestCountTable(t *testing.T) {
	t.Parallel()
	alice, zen := filepath.Join(textDir, "alice.txt"), filepath.Join(textDir, "zen.txt")
	args := []string{"count", "-e", "the", "-e", "Alice", "-e", "is", alice, zen}
	o := runJSON(t, args...)
	out := mustRun(t, args...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("table: got %d lines, want a header, 2 documents and a total:\n%s", len(lines), out)
	}
	if got, want := strings.Fields(lines[0]), []string{"document", "bytes", "the", "Alice", "is"}; !slices.Equal(got, want) {
		t.Errorf("header: got %q, want %q", got, want)
	}
	withStats := strings.Split(strings.TrimSuffix(mustRun(t, append(args, "--stats")...), "\n"), "\n")
	if got, want := strings.Fields(withStats[0]), []string{"document", "bytes", "lines", "tokens", "the", "Alice", "is"}; !slices.Equal(got, want) {
		t.Errorf("header with --stats: got %q, want %q", got, want)
	}
	rows := append(slices.Clone(o.Documents), o.Total)
	rows[2].Name = "total"
	for i, d := range rows {
		counts := []string{fmt.Sprint(d.Counts["the"]), fmt.Sprint(d.Counts["Alice"]), fmt.Sprint(d.Counts["is"])}
		want := append([]string{d.Name, fmt.Sprint(d.Bytes)}, counts...)
		if got := strings.Fields(lines[i+1]); !slices.Equal(got, want) {
			t.Errorf("row %d: got %q, want %q", i+1, got, want)
		}
		want = append([]string{d.Name, fmt.Sprint(d.Bytes), fmt.Sprint(d.Lines), fmt.Sprint(d.Tokens)}, counts...)
		if got := strings.Fields(withStats[i+1]); !slices.Equal(got, want) {
			t.Errorf("row %d with --stats: got %q, want %q", i+1, got, want)
		}
	}
	// Columns line up: every line is as wide as the header.
	for i, l := range lines {
		if len(strings.TrimRight(l, " ")) != len(strings.TrimRight(lines[0], " ")) {
			t.Errorf("line %d: got width %d, want %d:\n%s", i, len(strings.TrimRight(l, " ")), len(strings.TrimRight(lines[0], " ")), out)
		}
	}
}

func TestTopTable(t *testing.T) {
	t.Parallel()
	zen := filepath.Join(textDir, "zen.txt")
	o := runJSON(t, "top", "-n", "4", zen)
	out := mustRun(t, "top", "-n", "4", zen)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("table: got %d lines, want a header, 4 rows and a summary:\n%s", len(lines), out)
	}
	if got, want := strings.Fields(lines[0]), []string{"rank", "count", "token"}; !slices.Equal(got, want) {
		t.Errorf("header: got %q, want %q", got, want)
	}
	for i, e := range o.Top {
		if got, want := strings.Fields(lines[i+1]), []string{fmt.Sprint(i + 1), fmt.Sprint(e.Count), e.Token}; !slices.Equal(got, want) {
			t.Errorf("row %d: got %q, want %q", i+1, got, want)
		}
	}
	if want := fmt.Sprintf("1 documents, %d bytes", o.Total.Bytes); lines[5] != want {
		t.Errorf("summary: got %q, want %q", lines[5], want)
	}
	withStats := strings.Split(strings.TrimSuffix(mustRun(t, "top", "-n", "4", "--stats", zen), "\n"), "\n")
	if want := fmt.Sprintf("1 documents, %d bytes, %d lines, %d tokens", o.Total.Bytes, o.Total.Lines, o.Total.Tokens); withStats[5] != want {
		t.Errorf("summary with --stats: got %q, want %q", withStats[5], want)
	}
}

// tokenCount is text.split().count(target) for ASCII text.
func tokenCount(text, target string) int64 {
	var n int64
	for _, f := range strings.Fields(text) {
		if f == target {
			n++
		}
	}
	return n
}

func TestTargetsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	zen := filepath.Join(textDir, "zen.txt")
	// CRLF line ends and blank lines; the targets add to -e's.
	tf := writeFile(t, dir, "targets.txt", []byte("the\r\n\r\nis\nbetter\r\n"))
	got := runJSON(t, "count", "-e", "Python", "--targets-file", tf, zen)
	want := runJSON(t, "count", "-e", "Python", "-e", "the", "-e", "is", "-e", "better", zen)
	if !slices.Equal(got.Targets, want.Targets) || fmt.Sprint(got.answer()) != fmt.Sprint(want.answer()) {
		t.Errorf("--targets-file: got %q %+v, want %q %+v", got.Targets, got.answer(), want.Targets, want.answer())
	}
	empty := writeFile(t, dir, "empty.txt", []byte("\n\r\n"))
	for _, args := range [][]string{
		{"count", "--targets-file", empty, zen},
		{"count", "--targets-file", filepath.Join(dir, "missing.txt"), zen},
		{"count", "--targets-file", writeFile(t, dir, "space.txt", []byte("a b\n")), zen},
	} {
		r := runTally(t, "", args...)
		if r.code != 2 {
			t.Errorf("tally %q: got %v, want exit 2", args, r)
		}
		checkOneLine(t, args, r.stderr)
	}
}

// TestLargeResult asks for a result bigger than gRPC's default 4 MiB message:
// one token of 5 MB (a line longer than any chunk, too).
func TestLargeResult(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("x", 5_000_000)
	path := writeFile(t, t.TempDir(), "big.txt", []byte("a "+token+"\na"))
	args := []string{"top", "-n", "2", "--json", path}
	r := runTally(t, "", args...)
	if r.code != 0 {
		t.Fatalf("tally %q: got %v, want exit 0", args[:4], r)
	}
	var o countOut
	decodeOne(t, r.stdout, &o)
	if want := []topItem{{"a", 2}, {token, 1}}; !slices.Equal(o.Top, want) {
		t.Errorf("top: got %d entries, want a×2 and the 5 MB token×1", len(o.Top))
	}
}
