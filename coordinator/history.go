package coordinator

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/tallyhq/tally/query"
)

// A finished job stays in the history with its statistics and counts, but
// only a summary of its targets: 10,000 targets of 4 KiB are 40 MB, and a
// history of such jobs grew the coordinator by gigabytes and made one
// ListJobs reply as large. The client that ran a job has its targets.

// Summaries keep the first summaryTargets targets, each cut to at most
// summaryTargetBytes bytes (on a character boundary).
const (
	summaryTargets     = 8
	summaryTargetBytes = 64
)

// targetStats describes a count query's targets as submitted.
type targetStats struct {
	count int
	bytes int64
	cut   bool // a target in the summary is shorter than submitted
}

func statsOf(q query.Job) targetStats {
	var s targetStats
	if cq := q.Spec.Count; cq != nil {
		s.count = len(cq.Targets)
		for i, t := range cq.Targets {
			s.bytes += int64(len(t))
			s.cut = s.cut || i < summaryTargets && len(t) > summaryTargetBytes
		}
	}
	return s
}

// summarize returns q with only the first few of its targets, cut short,
// in memory of its own; q is unchanged.
func summarize(q query.Job) query.Job {
	cq := q.Spec.Count
	if cq == nil {
		return q
	}
	short := *cq
	short.Targets = make([]string, 0, min(len(cq.Targets), summaryTargets))
	for _, t := range cq.Targets[:min(len(cq.Targets), summaryTargets)] {
		short.Targets = append(short.Targets, cutTarget(t))
	}
	q.Spec.Count = &short
	return q
}

// describe is a one-line summary of q for the log: the kind and its
// options, and for a count the number of targets and the first few, quoted
// (they come from clients) and cut short.
func describe(q query.Job) string {
	if t := q.Spec.Top; t != nil {
		return fmt.Sprintf("top n=%d words_only=%t lower=%t stats=%t", q.TopLimit, t.WordsOnly, t.Lower, q.Spec.Stats)
	}
	cq := summarize(q).Spec.Count
	more := ""
	if n := len(q.Spec.Count.Targets); n > len(cq.Targets) {
		more = fmt.Sprintf(" and %d more", n-len(cq.Targets))
	}
	return fmt.Sprintf("count mode=%s ignore_case=%t stats=%t targets=%d %q%s", cq.Mode, cq.IgnoreCase, q.Spec.Stats, len(q.Spec.Count.Targets), cq.Targets, more)
}

// cutTarget returns a copy of t cut to at most summaryTargetBytes bytes,
// on a character boundary (a target is valid UTF-8, as a proto string must be).
func cutTarget(t string) string {
	if len(t) <= summaryTargetBytes {
		return string([]byte(t)) // a copy: t may share a large message's memory
	}
	n := summaryTargetBytes
	for n > 0 && !utf8.RuneStart(t[n]) {
		n--
	}
	return string([]byte(t[:n]))
}

// ListJobs pages: page sizes default to defaultPage and are capped at maxPage.
const (
	defaultPage = 50
	maxPage     = 200
)

// page returns up to size jobs registered before the one of sequence
// number before (all when before is 0), newest first, and the token of the
// next page, "" after the last.
func (r *registry) page(size int, before uint64) ([]*job, string) {
	if size <= 0 {
		size = defaultPage
	}
	size = min(size, maxPage)
	all := r.list()
	i := 0
	for before > 0 && i < len(all) && all[i].seq >= before {
		i++
	}
	end := min(i+size, len(all))
	next := ""
	if end < len(all) {
		next = strconv.FormatUint(all[end-1].seq, 10)
	}
	return all[i:end], next
}
