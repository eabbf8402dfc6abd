package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tallyBin is the tally binary built by TestMain, for the tests that run real
// server processes.
var tallyBin string

// TestMain builds the binary once and clears TALLY_* variables, so that a
// developer's environment (say TALLY_COORDINATOR) cannot change what the
// in-process commands do; tests that want one use t.Setenv.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TALLY_") {
			os.Unsetenv(name)
		}
	}
	dir, err := os.MkdirTemp("", "tally-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tallyBin = filepath.Join(dir, "tally")
	if out, err := exec.Command(goTool(), "build", "-o", tallyBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build tally: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool returns the go command; go test puts its own GOROOT/bin first in PATH.
func goTool() string { return "go" }

// result is what one command line did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// runTally runs one command line in this process, with stdin as its input.
func runTally(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustRun runs a command line that must succeed without writing to stderr.
func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	r := runTally(t, "", args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("tally %s: %v; want exit 0 and no stderr", strings.Join(args, " "), r)
	}
	return r.stdout
}

// decodeOne decodes stdout, which must hold exactly one JSON object and
// nothing else but trailing whitespace, into v.
func decodeOne(t testing.TB, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not one JSON value: %v\n%s", err, clip(stdout))
	}
	if strings.TrimSpace(stdout)[0] != '{' {
		t.Fatalf("stdout: got %q, want a JSON object", clip(stdout))
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		t.Fatalf("stdout: got more than one JSON value (next: %q, %v), want exactly one", clip(string(extra)), err)
	}
}

// countOut and topOut mirror the JSON contract of count and top (fields may be
// added to it; checkContract checks the keys and types separately).
type countOut struct {
	Job        string    `json:"job"`
	Mode       string    `json:"mode"`
	IgnoreCase bool      `json:"ignore_case"`
	Targets    []string  `json:"targets"`
	Documents  []docOut  `json:"documents"`
	Total      docOut    `json:"total"`
	Workers    int       `json:"workers"`
	Elapsed    float64   `json:"elapsed_seconds"`
	Top        []topItem `json:"top"`
}

type docOut struct {
	Name   string           `json:"name,omitempty"`
	Bytes  int64            `json:"bytes"`
	Lines  int64            `json:"lines"`
	Tokens int64            `json:"tokens"`
	Counts map[string]int64 `json:"counts,omitempty"`
}

type topItem struct {
	Token string `json:"token"`
	Count int64  `json:"count"`
}

// answer is the part of a result that must not depend on how it was computed.
type answer struct {
	Documents []docOut
	Total     docOut
	Top       []topItem
}

func (o countOut) answer() answer { return answer{o.Documents, o.Total, o.Top} }

// runJSON runs a count or top command line with --json, checks the output
// contract and returns the decoded output.
// runJSON runs tally with --json and --stats, so that every test that reads
// its documents sees their lines and tokens too (TestStatsFlag checks the
// output without --stats).
func runJSON(t testing.TB, args ...string) countOut {
	t.Helper()
	args = append(args, "--json", "--stats")
	out := mustRun(t, args...)
	checkContract(t, args[0], out)
	var o countOut
	decodeOne(t, out, &o)
	return o
}

// jsonReplace returns s as it reads after a round trip through encoding/json,
// which replaces every byte that is not valid UTF-8 with U+FFFD.
func jsonReplace(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var r string
	if err := json.Unmarshal(b, &r); err != nil {
		panic(err)
	}
	return r
}

// writeFile writes data to name in dir and returns its path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
