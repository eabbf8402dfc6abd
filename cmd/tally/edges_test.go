package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWithDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"tally-1":         "tally-1:7070",
		"10.0.0.5":        "10.0.0.5:7070",
		"::1":             "[::1]:7070",
		"[::1]":           "[::1]:7070",
		"tally-1:7100":    "tally-1:7100",
		"[::1]:7100":      "[::1]:7100",
		"127.0.0.1:0":     "127.0.0.1:0",
		"dns:///tally:70": "dns:///tally:70",
		"unix:/tmp/s":     "unix:/tmp/s",
	} {
		if got := withDefaultPort(in); got != want {
			t.Errorf("withDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWatchEnded: Ctrl-C during jobs watch says the job keeps running; any
// other end of the watch is reported as it is.
func TestWatchEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	other := errors.New("coordinator unavailable")
	if err := watchEnded(ctx, "abc", other); err != other {
		t.Errorf("not interrupted: got %v, want %v", err, other)
	}
	if err := watchEnded(ctx, "abc", nil); err != nil {
		t.Errorf("job ended: got %v, want nil", err)
	}
	cancel()
	err := watchEnded(ctx, "abc", status.FromContextError(ctx.Err()).Err())
	if err == nil || !strings.Contains(err.Error(), "job abc, which keeps running") || !strings.Contains(err.Error(), "tally jobs cancel abc") {
		t.Errorf("interrupted: got %v, want that job abc keeps running and how to cancel it", err)
	}
	if got := describe(err); strings.Contains(got, "cancelled") {
		t.Errorf("described as %q: the job was not cancelled", got)
	}
}

// TestJSONLogDurations: JSON logs give durations as seconds, text logs as
// Go writes them.
func TestJSONLogDurations(t *testing.T) {
	var out bytes.Buffer
	log, err := (&gossipFlags{logLevel: "info", logFormat: "json"}).logger(env{stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("job ended", "elapsed", 1500*time.Millisecond)
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if rec["elapsed"] != 1.5 {
		t.Errorf("JSON elapsed: got %v, want 1.5 (seconds)", rec["elapsed"])
	}
	out.Reset()
	log, _ = (&gossipFlags{logLevel: "info", logFormat: "text"}).logger(env{stderr: &out})
	log.Info("job ended", "elapsed", 1500*time.Millisecond)
	if !strings.Contains(out.String(), "elapsed=1.5s") {
		t.Errorf("text log: got %q, want elapsed=1.5s", out.String())
	}
}

// TestCompletion: the bash script completes commands, jobs subcommands and a
// command's flags (asked of the binary's own --help); zsh's and fish's
// scripts are checked for syntax where those shells are installed.
func TestCompletion(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := filepath.Dir(tallyBin) // holds the built binary as "tally"
	script := `source <(tally completion bash)
c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tally; echo "${COMPREPLY[*]}"; }
c tally co; c tally jobs w; c tally count --mo; c tally top --low; c tally completion f`
	cmd := exec.Command(bash, "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := "count coordinator completion\nwatch\n--mode\n--lower\nfish\n"
	if string(out) != want {
		t.Errorf("bash completions: got\n%s\nwant\n%s", out, want)
	}
	for _, sh := range []string{"zsh", "fish"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s is not installed: its script's syntax is not checked", sh)
			continue
		}
		src := mustRun(t, "completion", sh)
		check := exec.Command(path, "-n")
		check.Stdin = strings.NewReader(src)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
	if r := runTally(t, "", "completion", "tcsh"); r.code != 2 {
		t.Errorf("completion tcsh: got %v, want exit 2", r)
	}
}

// TestTLSHint: both ways gRPC words a TLS server's refusal of a plaintext
// client, and a plaintext server's of a TLS client, get their hint.
func TestTLSHint(t *testing.T) {
	for msg, want := range map[string]string{
		`connection error: desc = "error reading server preface: EOF"`:                                            "may require TLS",
		`connection error: desc = "error reading server preface: connection reset by peer"`:                       "may require TLS",
		`transport: authentication handshake failed: tls: first record does not look like a TLS handshake`:        "does not use TLS",
		`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: refused"`: "",
	} {
		got := describe(status.Error(codes.Unavailable, msg))
		if want == "" && strings.Contains(got, "TLS") || want != "" && !strings.Contains(got, want) {
			t.Errorf("describe(%q) = %q, want a hint containing %q", msg, got, want)
		}
	}
}
