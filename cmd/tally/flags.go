package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "TALLY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// newFlagSet returns a FlagSet whose usage lists each flag with its environment variable.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Parse errors become one line from run; usage is printed only for --help, by parse.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: %s\n\nflags (each also settable from the environment variable shown):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			env := envName(f.Name)
			if _, ok := f.Value.(*multiFlag); ok {
				env += " (newline-separated)"
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			fmt.Fprintf(out, "  %s%s\n        %s%s [%s]\n", dash, f.Name, f.Usage, def, env)
		})
		if ex := examples[name]; ex != "" {
			fmt.Fprintf(out, "\nexamples:\n%s", ex)
		}
	}
	return fs
}

// examples are shown at the end of each command's --help.
var examples = map[string]string{
	"count": `  tally count -e Holmes -e Watson books/                  whole tokens, each document and the total
  tally count --mode word -i -e holmes --json books/*.txt  like grep -w -i, as one JSON object
  echo "the cat the" | tally count -e the                  a pipe, with no PATH
  tally count --stats -e the book.txt                      also lines and tokens per document
  tally count -e sand --coordinator tally-1 s3://corpora/  on a cluster, whose workers read S3
`,
	"top": `  tally top -n 20 --lower --words-only books/           the 20 commonest words, lower-cased
  tally top -n 0 --json book.txt > table.json            the whole table
`,
	"cluster": `  tally cluster --coordinator 127.0.0.1:7070            the workers, their state and what they read
`,
	"jobs": `  tally jobs list                                        recent jobs, newest first
  tally jobs watch 3f2a9c0d11e4                          follow a running job (Ctrl-C stops watching)
  tally jobs cancel 3f2a9c0d11e4
`,
	"coordinator": `  tally coordinator --listen 127.0.0.1:7070 --gossip 127.0.0.1:7946 --data-dir /data
`,
	"worker": `  tally worker --join 127.0.0.1:7946 --listen 127.0.0.1:0 --gossip 127.0.0.1:0
  tally worker --join tally-1:7946 --shared-root /data --threads 8   (off loopback: TLS and a gossip key)
`,
	"health": `  tally health --addr 127.0.0.1:7070 --service tally.v1.CoordinatorService
`,
}

// parse applies environment defaults, then parses args, allowing flags after
// positional arguments (tally count -e x book.txt --json). It returns the
// positional arguments; for --help it prints the usage to help and returns flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, help io.Writer) ([]string, error) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || envErr != nil {
			return
		}
		vals := []string{v}
		if _, multi := f.Value.(*multiFlag); multi {
			vals = strings.Split(v, "\n")
		}
		for _, s := range vals {
			if err := f.Value.Set(s); err != nil {
				envErr = usagef("invalid %s=%q: %v", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				fs.SetOutput(help)
				fs.Usage()
				return nil, err
			}
			return nil, usageError{flagMessage(err, fs.Name())}
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// sizeFlag is a byte size such as 1048576, 64KiB, 1MiB or 1MB.
type sizeFlag int

func (s *sizeFlag) String() string { return strconv.Itoa(int(*s)) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(v string) (int, error) {
	units := []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	s, mult := strings.TrimSpace(v), 1
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a size in bytes (examples: 65536, 64KiB, 1MiB)", v)
	}
	return n * mult, nil
}

// longFlag is a flag name of two or more letters as the flag package writes
// it in its errors, with one dash.
var longFlag = regexp.MustCompile(`(^|\s)-([A-Za-z][A-Za-z0-9_-]+)(:|$)`)

// flagMessage rewrites a flag package error as the help and README spell
// flags: --name for long ones (-e, -i and -n keep one dash), and an unknown
// flag as such, with where to find the known ones.
func flagMessage(err error, cmd string) string {
	msg := longFlag.ReplaceAllString(err.Error(), "$1--$2$3")
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Sprintf("unknown flag %s (see tally %s --help)", name, cmd)
	}
	return msg
}
