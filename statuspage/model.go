package statuspage

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/tallyhq/tally/coordinator"
)

// The JSON behind the pages, in the CLI's JSON style: snake_case names,
// numbers as numbers, states as lower-case words, RFC 3339 times,
// durations in seconds. docs/status.md documents it; fields are only ever
// added. The templates render the same values.

// clusterJSON is /status/api/cluster.
type clusterJSON struct {
	Coordinator coordinatorJSON `json:"coordinator"`
	Workers     []workerJSON    `json:"workers"`
	// BytesPerSecond is the workers' bytes counted per second over the last minute, together.
	BytesPerSecond float64 `json:"bytes_per_second"`
	JobsRunning    int     `json:"jobs_running"`
}

type coordinatorJSON struct {
	Name          string    `json:"name"`
	Address       string    `json:"address"`
	GossipAddress string    `json:"gossip_address"`
	Version       string    `json:"version"`
	Revision      string    `json:"revision"`
	GoVersion     string    `json:"go_version"`
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	Security      string    `json:"security"`
	TLS           bool      `json:"tls"`
	GossipKey     bool      `json:"gossip_key"`
	Insecure      bool      `json:"insecure"`
}

type workerJSON struct {
	Name          string `json:"name"`
	Address       string `json:"address"`
	GossipAddress string `json:"gossip_address"`
	Cores         int    `json:"cores"`
	// State is alive, connecting, suspect (its link broke; gossip still
	// lists it) or left (gossip no longer lists it: it left or was
	// declared dead).
	State            string     `json:"state"`
	InFlight         int        `json:"in_flight"`
	ChunksDone       uint64     `json:"chunks_done"`
	BytesDone        int64      `json:"bytes_done"`
	BytesPerSecond   float64    `json:"bytes_per_second"`
	ChunksLastMinute uint64     `json:"chunks_last_minute"`
	SharedRoot       string     `json:"shared_root"`
	S3               bool       `json:"s3"`
	Reads            string     `json:"reads"`
	Insecure         bool       `json:"insecure"`
	LeftAt           *time.Time `json:"left_at,omitempty"`
}

// jobsJSON is /status/api/jobs.
type jobsJSON struct {
	Jobs []jobJSON `json:"jobs"`
}

// jobJSON is a job's summary, as the jobs page lists it.
type jobJSON struct {
	ID                string   `json:"id"`
	Kind              string   `json:"kind"`
	Mode              string   `json:"mode,omitempty"`
	IgnoreCase        bool     `json:"ignore_case,omitempty"`
	Targets           []string `json:"targets,omitempty"`
	TargetCount       int      `json:"target_count"`
	TargetsSummarized bool     `json:"targets_summarized"`
	WordsOnly         bool     `json:"words_only,omitempty"`
	Lower             bool     `json:"lower,omitempty"`
	N                 int      `json:"n,omitempty"`
	// Query is the kind, options and targets in a line.
	Query     string `json:"query"`
	Documents int    `json:"documents"`
	// Inputs names the documents in a line: the first, and how many more.
	Inputs           string     `json:"inputs"`
	State            string     `json:"state"`
	Error            string     `json:"error,omitempty"`
	Waiting          string     `json:"waiting,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	FinishedAt       *time.Time `json:"finished_at,omitempty"`
	ElapsedSeconds   float64    `json:"elapsed_seconds"`
	BytesCounted     int64      `json:"bytes_counted"`
	BytesReceived    int64      `json:"bytes_received"`
	BytesTotal       int64      `json:"bytes_total"`
	ChunksDone       int64      `json:"chunks_done"`
	ChunksDispatched int64      `json:"chunks_dispatched"`
	// Progress is bytes_counted / bytes_total, 0 to 1; absent while the
	// total is unknown (a stream of unknown size).
	Progress       *float64 `json:"progress,omitempty"`
	BytesPerSecond float64  `json:"bytes_per_second"`
	// ETASeconds is absent when it cannot be told (no total or no rate yet).
	ETASeconds  *float64 `json:"eta_seconds,omitempty"`
	WorkersUsed int      `json:"workers_used"`
}

// jobDetailJSON is /status/api/jobs/{id}: the summary and more.
type jobDetailJSON struct {
	jobJSON
	Workers          []string         `json:"workers"`
	DocumentProgress []documentJSON   `json:"document_progress"`
	Throughput       []ratePoint      `json:"throughput"`
	Redispatches     []redispatchJSON `json:"redispatches"`
	RedispatchCount  int              `json:"redispatch_count"`
	Result           *resultJSON      `json:"result,omitempty"`
}

type documentJSON struct {
	Index        int      `json:"index"`
	Name         string   `json:"name"`
	Size         int64    `json:"size"` // 0 when unknown
	BytesCounted int64    `json:"bytes_counted"`
	Progress     *float64 `json:"progress,omitempty"`
}

type ratePoint struct {
	AtSeconds      float64 `json:"at_seconds"`
	BytesPerSecond float64 `json:"bytes_per_second"`
}

type redispatchJSON struct {
	Seq      int       `json:"seq"`
	At       time.Time `json:"at"`
	Chunk    uint64    `json:"chunk"`
	Document string    `json:"document"`
	Offset   int64     `json:"offset"`
	Reason   string    `json:"reason"`
	Worker   string    `json:"worker"`
	Cause    string    `json:"cause"`
}

// resultJSON is a succeeded job's answer, its first rows only: the whole
// answer is the client's (tally count, tally jobs show).
type resultJSON struct {
	// Documents are the first documents' answers; counts are parallel to
	// the job's targets as listed (its first few).
	Documents      []docResultJSON `json:"documents"`
	DocumentsShown int             `json:"documents_shown"`
	Total          docResultJSON   `json:"total"`
	Workers        int             `json:"workers"`
	ElapsedSeconds float64         `json:"elapsed_seconds"`
	Top            []tokenJSON     `json:"top,omitempty"`
	TopShown       int             `json:"top_shown,omitempty"`
	TopDropped     bool            `json:"top_dropped,omitempty"`
}

type docResultJSON struct {
	Name   string  `json:"name"`
	Bytes  int64   `json:"bytes"`
	Lines  *int64  `json:"lines,omitempty"`
	Tokens *int64  `json:"tokens,omitempty"`
	Counts []int64 `json:"counts,omitempty"`
}

type tokenJSON struct {
	Token string `json:"token"`
	Count int64  `json:"count"`
}

// Bounds of what one reply shows.
const (
	shownDocuments = 200 // per-document progress rows
	shownResults   = 100 // result rows: documents, or top tokens
)

// text makes a string from users safe to show: invalid UTF-8 becomes
// U+FFFD (escaping is the templates' and the JSON encoder's job).
func text(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func texts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = text(s)
	}
	return out
}

// cluster builds the cluster page's data.
func (p *Page) cluster(now time.Time) clusterJSON {
	o := p.src.Overview()
	out := clusterJSON{Coordinator: coordinatorJSON{
		Name: text(o.Name), Address: o.Addr, GossipAddress: o.GossipAddr,
		Version: cmp.Or(p.build.Version, "unknown"), Revision: p.build.Revision, GoVersion: p.build.GoVersion,
		StartedAt: o.Started.UTC(), UptimeSeconds: now.Sub(o.Started).Seconds(),
		Security: o.Posture.Describe(), TLS: o.Posture.TLS, GossipKey: o.Posture.GossipKey, Insecure: o.Posture.Insecure,
	}, Workers: []workerJSON{}}
	rates := p.hist.workerRates()
	for _, w := range o.Workers {
		wj := workerJSONOf(w, workerState(w.State))
		r := rates[w.Name]
		wj.BytesPerSecond, wj.ChunksLastMinute = r.bytesPerSecond, r.chunks
		out.BytesPerSecond += r.bytesPerSecond
		out.Workers = append(out.Workers, wj)
	}
	for _, d := range p.hist.departed() {
		wj := workerJSONOf(d.last, "left")
		wj.InFlight = 0
		at := d.leftAt.UTC()
		wj.LeftAt = &at
		out.Workers = append(out.Workers, wj)
	}
	slices.SortFunc(out.Workers, func(a, b workerJSON) int { return strings.Compare(a.Name, b.Name) })
	for _, h := range p.src.Jobs() {
		if h.Snapshot(false).State == coordinator.Running {
			out.JobsRunning++
		}
	}
	return out
}

func workerJSONOf(w coordinator.WorkerInfo, state string) workerJSON {
	return workerJSON{Name: text(w.Name), Address: w.Addr, GossipAddress: w.GossipAddr, Cores: w.Cores, State: state,
		InFlight: w.InFlight, ChunksDone: w.ChunksDone, BytesDone: w.BytesDone,
		SharedRoot: text(w.Storage.SharedRoot), S3: w.Storage.S3, Reads: reads(w), Insecure: w.Insecure}
}

// workerState names a session's state as the page shows it.
func workerState(s string) string {
	switch s {
	case "ready":
		return "alive"
	case "failed":
		return "suspect"
	}
	return s
}

// reads says what a worker reads by reference, in words.
func reads(w coordinator.WorkerInfo) string {
	var parts []string
	if w.Storage.SharedRoot != "" {
		parts = append(parts, text(w.Storage.SharedRoot))
	}
	if w.Storage.S3 {
		parts = append(parts, "s3://")
	}
	if len(parts) == 0 {
		return "streamed text only"
	}
	return strings.Join(parts, ", ")
}

// jobs builds the jobs page's data.
func (p *Page) jobs(now time.Time) jobsJSON {
	out := jobsJSON{Jobs: []jobJSON{}}
	for _, h := range p.src.Jobs() {
		out.Jobs = append(out.Jobs, p.summary(h.Snapshot(false), h.Detail(1), now))
	}
	return out
}

// summary builds a job's summary from its snapshot.
func (p *Page) summary(s coordinator.Snapshot, d coordinator.Detail, now time.Time) jobJSON {
	total := s.TargetCount()
	s = s.Summarized()
	j := jobJSON{ID: s.ID, Documents: s.Documents, State: s.State.String(), Waiting: text(s.Progress.Waiting),
		CreatedAt: s.Created.UTC(), BytesCounted: s.Progress.BytesCounted, BytesReceived: s.Progress.BytesReceived,
		BytesTotal: s.Progress.BytesTotal, ChunksDone: s.Progress.ChunksDone, ChunksDispatched: s.Progress.ChunksDispatched,
		WorkersUsed: len(d.WorkersUsed), TargetCount: total, TargetsSummarized: s.TargetsSummarized()}
	if s.Err != nil && s.State != coordinator.Succeeded {
		j.Error = text(s.Err.Error())
	}
	end := now
	if !s.Finished.IsZero() {
		f := s.Finished.UTC()
		j.FinishedAt, end = &f, s.Finished
	}
	j.ElapsedSeconds = end.Sub(s.Created).Seconds()
	if cq := s.Query.Spec.Count; cq != nil {
		j.Kind, j.Mode, j.IgnoreCase, j.Targets = "count", cq.Mode.String(), cq.IgnoreCase, texts(cq.Targets)
	} else if tq := s.Query.Spec.Top; tq != nil {
		j.Kind, j.WordsOnly, j.Lower, j.N = "top", tq.WordsOnly, tq.Lower, s.Query.TopLimit
	}
	j.Query = describe(j)
	if len(d.Documents) > 0 {
		j.Inputs = text(d.Documents[0].Name)
		if more := d.DocumentCount - 1; more > 0 {
			j.Inputs += " and " + itoa(int64(more)) + " more"
		}
	}
	if s.Progress.BytesTotal > 0 {
		f := min(1, float64(s.Progress.BytesCounted)/float64(s.Progress.BytesTotal))
		if s.State == coordinator.Succeeded {
			f = 1
		}
		j.Progress = &f
	}
	j.BytesPerSecond = p.hist.jobRate(s)
	if s.State == coordinator.Running && s.Progress.BytesTotal > 0 && j.BytesPerSecond > 0 {
		eta := max(0, float64(s.Progress.BytesTotal-s.Progress.BytesCounted)/j.BytesPerSecond)
		j.ETASeconds = &eta
	}
	return j
}

// describe is a job's query in a line: the kind, its options and its targets.
func describe(j jobJSON) string {
	if j.Kind == "top" {
		q := "top"
		if j.N > 0 {
			q += " -n " + itoa(int64(j.N))
		}
		if j.WordsOnly {
			q += " --words"
		}
		if j.Lower {
			q += " --lower"
		}
		return q
	}
	q := "count " + j.Mode
	if j.IgnoreCase {
		q += " -i"
	}
	quoted := make([]string, len(j.Targets))
	for i, t := range j.Targets {
		quoted[i] = quote(t)
	}
	q += " " + strings.Join(quoted, " ")
	if more := j.TargetCount - len(j.Targets); more > 0 {
		q += " and " + itoa(int64(more)) + " more"
	} else if j.TargetsSummarized {
		q += " (cut short)"
	}
	return q
}

// detail builds a job page's data; nil for an unknown job.
func (p *Page) detail(id string, now time.Time) *jobDetailJSON {
	h := p.src.Job(id)
	if h == nil {
		return nil
	}
	s := h.Snapshot(true)
	d := h.Detail(shownDocuments)
	out := &jobDetailJSON{jobJSON: p.summary(s, d, now), Workers: texts(d.WorkersUsed), DocumentProgress: []documentJSON{},
		Throughput: p.hist.throughput(id), Redispatches: []redispatchJSON{}, RedispatchCount: d.RedispatchCount}
	if out.Throughput == nil {
		out.Throughput = []ratePoint{}
	}
	for i, doc := range d.Documents {
		dj := documentJSON{Index: i, Name: text(doc.Name), Size: doc.Size, BytesCounted: doc.BytesCounted}
		if doc.Size > 0 {
			f := min(1, float64(doc.BytesCounted)/float64(doc.Size))
			dj.Progress = &f
		}
		out.DocumentProgress = append(out.DocumentProgress, dj)
	}
	for i := len(d.Redispatches) - 1; i >= 0; i-- { // newest first
		r := d.Redispatches[i]
		out.Redispatches = append(out.Redispatches, redispatchJSON{Seq: r.Seq, At: r.At.UTC(), Chunk: r.Chunk, Document: text(r.Document),
			Offset: r.Offset, Reason: r.Reason, Worker: text(r.Worker), Cause: text(r.Cause)})
	}
	if s.State == coordinator.Succeeded && s.Result != nil {
		out.Result = resultOf(s.Result, len(out.Targets))
	}
	return out
}

// resultOf is the first rows of a result; counts are cut to the targets listed.
func resultOf(r *coordinator.Result, targets int) *resultJSON {
	doc := func(d coordinator.DocumentResult) docResultJSON {
		out := docResultJSON{Name: text(d.Name), Bytes: d.Stats.Bytes, Counts: d.Counts[:min(targets, len(d.Counts))]}
		if r.Stats {
			lines, tokens := d.Stats.Lines, d.Stats.Tokens
			out.Lines, out.Tokens = &lines, &tokens
		}
		return out
	}
	out := &resultJSON{Documents: []docResultJSON{}, Total: doc(r.Total), Workers: r.Workers,
		ElapsedSeconds: r.Elapsed.Seconds(), TopDropped: r.TopDropped}
	out.Total.Name = "total"
	for _, d := range r.Documents[:min(shownResults, len(r.Documents))] {
		out.Documents = append(out.Documents, doc(d))
	}
	out.DocumentsShown = len(out.Documents)
	for _, e := range r.Top[:min(shownResults, len(r.Top))] {
		out.Top = append(out.Top, tokenJSON{Token: text(e.Token), Count: e.Count})
	}
	out.TopShown = len(out.Top)
	return out
}
