package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tallyhq/tally/client"
)

// isTerminal reports whether w is a character device (a terminal), where a
// progress line that rewrites itself is welcome.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// stdinPiped reports whether r is the process's stdin fed by a pipe or a
// redirected file, which a command given no input reads, as rg and wc do. A
// terminal, /dev/null or a closed stdin is not: the command then asks for an
// input instead of waiting for one.
func stdinPiped(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && (info.Mode()&os.ModeNamedPipe != 0 || info.Mode().IsRegular())
}

// progressLine draws one line on stderr, rewritten in place: bytes counted of
// the total (when known), speed, time left and busy workers. It never writes
// to stdout, which holds only the result.
type progressLine struct {
	w     io.Writer
	total int64 // the job's bytes when known before it starts, else 0
	start time.Time
	drawn bool
}

// newProgressLine draws on w. total is the job's size when known up front
// (local files of known size): the coordinator's total counts only the
// documents announced so far, so a job of many files would look nearly done
// early on.
func newProgressLine(w io.Writer, total int64) *progressLine {
	return &progressLine{w: w, total: total, start: time.Now()}
}

func (p *progressLine) show(pr client.Progress) {
	pr.BytesTotal = max(pr.BytesTotal, p.total)
	fmt.Fprintf(p.w, "\r\x1b[K%s", formatProgress(pr, time.Since(p.start)))
	p.drawn = true
}

// done clears the line.
func (p *progressLine) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// formatProgress is the text of a progress line.
func formatProgress(pr client.Progress, elapsed time.Duration) string {
	var b strings.Builder
	done := pr.BytesCounted
	if pr.BytesTotal > 0 {
		fmt.Fprintf(&b, "%s / %s (%d%%)", megabytes(done), megabytes(pr.BytesTotal), 100*done/max(pr.BytesTotal, 1))
	} else {
		fmt.Fprintf(&b, "%s", megabytes(done))
	}
	if secs := elapsed.Seconds(); secs > 0 {
		rate := float64(done) / secs
		fmt.Fprintf(&b, "  %.0f MB/s", rate/1e6)
		if pr.BytesTotal > done && rate > 0 {
			eta := time.Duration(float64(pr.BytesTotal-done) / rate * float64(time.Second))
			fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
		}
	}
	b.WriteString("  " + plural(pr.Workers, "worker"))
	if pr.Waiting != "" {
		fmt.Fprintf(&b, "  (%s)", pr.Waiting)
	}
	return b.String()
}

// plural is "1 worker", "0 workers", "2 workers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
