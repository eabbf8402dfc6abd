package metrics

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// This file is a small Prometheus registry: counters, gauges and
// histograms with labels, written in the text exposition format. It stands
// in for prometheus/client_golang, whose package initialisation (its
// default registry's Go and process collectors, procfs, protobuf
// descriptors) cost every start of the tally binary, CLI runs included,
// most of a millisecond.

// kind is a metric family's type, as the exposition names it.
type kind string

const (
	counterKind   kind = "counter"
	gaugeKind     kind = "gauge"
	histogramKind kind = "histogram"
)

// family is a metric and its series, one per combination of label values.
// It is safe for concurrent use.
type family struct {
	name, help string
	kind       kind
	labels     []string  // label names, in the order values are given
	buckets    []float64 // upper bounds, for a histogram

	mu     sync.Mutex // guards series
	series map[string]*series
}

// series is one labelled value of a family: a float64 kept as bits, so
// that it is updated atomically; a histogram's buckets, sum and count.
type series struct {
	values []string
	bits   atomic.Uint64
	counts []atomic.Uint64 // a histogram's, per bucket (not cumulative)
	sum    atomic.Uint64   // a histogram's sum, as bits
	total  atomic.Uint64   // a histogram's count
}

func newFamily(name, help string, k kind, labels ...string) *family {
	return &family{name: name, help: help, kind: k, labels: labels, series: map[string]*series{}}
}

// with returns the series of the label values, creating it at 0.
func (f *family) with(values ...string) *series {
	key := strings.Join(values, "\xff")
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.series[key]
	if s == nil {
		s = &series{values: values}
		if f.kind == histogramKind {
			s.counts = make([]atomic.Uint64, len(f.buckets))
		}
		f.series[key] = s
	}
	return s
}

// add adds d to s's value.
func (s *series) add(d float64) { addFloat(&s.bits, d) }

// set sets s's value.
func (s *series) set(v float64) { s.bits.Store(math.Float64bits(v)) }

func (s *series) value() float64 { return math.Float64frombits(s.bits.Load()) }

// observe records v in the histogram series s of f.
func (f *family) observe(s *series, v float64) {
	if i, _ := slices.BinarySearch(f.buckets, v); i < len(f.buckets) {
		s.counts[i].Add(1)
	}
	addFloat(&s.sum, v)
	s.total.Add(1)
}

func addFloat(bits *atomic.Uint64, d float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// registry is the families a process exposes, plus collectors that write
// families computed at scrape time (the Go runtime's, the process's).
type registry struct {
	mu         sync.Mutex // guards families and collectors
	families   []*family
	collectors []func() []*family
}

func (r *registry) register(fs ...*family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.families = append(r.families, fs...)
}

func (r *registry) collect(c func() []*family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, c)
}

// ServeHTTP writes every family in the text exposition format, sorted by
// name, each family's series by label values.
func (r *registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.write(w)
}

func (r *registry) write(out io.Writer) error {
	r.mu.Lock()
	fs := slices.Clone(r.families)
	collectors := slices.Clone(r.collectors)
	r.mu.Unlock()
	for _, c := range collectors {
		fs = append(fs, c()...)
	}
	slices.SortFunc(fs, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	w := bufio.NewWriter(out)
	for _, f := range fs {
		f.write(w)
	}
	return w.Flush()
}

func (f *family) write(w *bufio.Writer) {
	f.mu.Lock()
	ss := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		ss = append(ss, s)
	}
	f.mu.Unlock()
	if len(ss) == 0 {
		return
	}
	slices.SortFunc(ss, func(a, b *series) int { return slices.Compare(a.values, b.values) })
	w.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n# TYPE " + f.name + " " + string(f.kind) + "\n")
	for _, s := range ss {
		if f.kind != histogramKind {
			writeSample(w, f.name, f.labels, s.values, "", "", s.value())
			continue
		}
		var cum uint64
		for i, le := range f.buckets {
			cum += s.counts[i].Load()
			writeSample(w, f.name+"_bucket", f.labels, s.values, "le", formatFloat(le), float64(cum))
		}
		total := s.total.Load()
		writeSample(w, f.name+"_bucket", f.labels, s.values, "le", "+Inf", float64(total))
		writeSample(w, f.name+"_sum", f.labels, s.values, "", "", math.Float64frombits(s.sum.Load()))
		writeSample(w, f.name+"_count", f.labels, s.values, "", "", float64(total))
	}
}

// writeSample writes one line: the labels sorted by name, as Prometheus's
// own client writes them, then extra (le) last.
func writeSample(w *bufio.Writer, name string, labels, values []string, extra, extraValue string, v float64) {
	w.WriteString(name)
	if len(labels) > 0 || extra != "" {
		order := make([]int, len(labels))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
		w.WriteByte('{')
		for n, i := range order {
			if n > 0 {
				w.WriteByte(',')
			}
			w.WriteString(labels[i] + `="` + escapeLabel(values[i]) + `"`)
		}
		if extra != "" {
			if len(labels) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extra + `="` + extraValue + `"`)
		}
		w.WriteByte('}')
	}
	w.WriteString(" " + formatFloat(v) + "\n")
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }
