// Command tally counts words in large text corpora on a cluster, or in this
// process when no coordinator is named. Run `tally help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"strings"
	"syscall"
	_ "time/tzdata" // a scratch image has no time zone database

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const help = `tally counts words in large text corpora, exactly, on every core of a cluster.

usage:
  tally count [--mode token|word|substring] [-i] -e TARGET [-e TARGET]... [--targets-file FILE] [--chunk-size SIZE] [--json] [--coordinator HOST:PORT] PATH...
  tally top [-n K] [--words-only] [--lower] [--chunk-size SIZE] [--json] [--coordinator HOST:PORT] PATH...
  tally cluster [--json] [--coordinator HOST:PORT]
  tally jobs list|show ID|watch ID|cancel ID [--json] [--coordinator HOST:PORT]
  tally coordinator --listen HOST:PORT --gossip HOST:PORT
  tally worker --join HOST:PORT --listen HOST:PORT --gossip HOST:PORT [--threads N] [--shared-root DIR]
  tally health [--addr HOST:PORT] [--service NAME]
  tally version (or --version)
  tally completion bash|zsh|fish    (e.g. source <(tally completion bash))

A PATH is a file, a directory (read recursively), - for stdin, or an object
store URL: s3://BUCKET/KEY or s3://BUCKET/PREFIX/ (credentials from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, endpoint from AWS_ENDPOINT_URL or
--s3-endpoint). Without --coordinator (or TALLY_COORDINATOR) count and top run
an embedded coordinator and worker in this process. Run 'tally COMMAND --help'
for a command's flags.

exit codes: 0 success, 1 the job failed (its input included: a file that cannot be read), 2 usage error
`

// env is what a command reads and writes besides its arguments.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startCPUProfile(os.Getenv("TALLY_CPUPROFILE"), os.Stderr)
	code := run(ctx, os.Args[1:], env{os.Stdin, os.Stdout, os.Stderr})
	stopProfile()
	stop()
	os.Exit(code)
}

// startCPUProfile writes a CPU profile of the whole command to path, when
// set, for `go tool pprof`: the way to see where a client-side or embedded
// run spends its time (servers have --pprof).
func startCPUProfile(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tally: TALLY_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, help)
		return 2
	}
	commands := map[string]func(context.Context, []string, env) error{
		"count":       runCount,
		"top":         runTop,
		"cluster":     runCluster,
		"jobs":        runJobs,
		"coordinator": runCoordinator,
		"worker":      runWorker,
		"health":      runHealth,
		"completion":  runCompletion,
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, help)
		return 0
	case "version", "--version", "-version":
		fmt.Fprintln(e.stdout, version())
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "tally: unknown command %q (commands: %s)\n", name, strings.Join(commandNames, ", "))
		return 2
	}
	err := cmd(ctx, args[1:], e)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(e.stderr, "tally %s: %v\n", name, err)
		return 2
	}
	fmt.Fprintf(e.stderr, "tally %s: %s\n", name, describe(err))
	return 1
}

// grpcNoise is the prefix gRPC puts on a status error's message.
var grpcNoise = regexp.MustCompile(`rpc error: code = \w+ desc = `)

// describe turns an error into one line, without gRPC's "rpc error: code = ..." noise.
func describe(err error) string {
	msg := grpcNoise.ReplaceAllString(err.Error(), "")
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable:
			msg = "coordinator unavailable: " + msg
		case codes.Canceled:
			msg = "cancelled"
		}
	} else if errors.Is(err, context.Canceled) {
		msg = "cancelled"
	}
	return strings.ReplaceAll(msg+tlsHint(msg), "\n", " ")
}

// tlsHint explains the two errors gRPC gives when one side uses TLS and the
// other does not, which name neither TLS nor a remedy.
func tlsHint(msg string) string {
	switch {
	case strings.Contains(msg, "error reading server preface"): // EOF, or the connection reset
		return " (the coordinator may require TLS: give --tls-ca, and --tls-cert/--tls-key or --token-file as it asks)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return " (the coordinator does not use TLS: drop --tls-ca, --tls-cert and --tls-key)"
	}
	return ""
}
