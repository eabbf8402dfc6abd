package metrics

import (
	"strings"
	"testing"
)

// TestExposition checks the text format: families by name, series by
// label values, label names sorted, values escaped, histogram buckets
// cumulative with +Inf, _sum and _count.
func TestExposition(t *testing.T) {
	r := &registry{}
	c := newFamily("b_total", "A counter\\with \"quotes\"\nand lines.", counterKind, "z", "a")
	c.with("2", `x"y\z`).add(3)
	c.with("1", "n\nl").add(0.5)
	g := newFamily("a_gauge", "A gauge.", gaugeKind)
	g.with().set(-2)
	h := newFamily("c_seconds", "A histogram.", histogramKind, "m")
	h.buckets = []float64{0.1, 1}
	hs := h.with("x")
	for _, v := range []float64{0.05, 0.1, 0.5, 7} {
		h.observe(hs, v)
	}
	r.register(c, g, h, newFamily("d_empty", "No series.", counterKind, "l"))
	var out strings.Builder
	if err := r.write(&out); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_gauge A gauge.
# TYPE a_gauge gauge
a_gauge -2
# HELP b_total A counter\\with "quotes"\nand lines.
# TYPE b_total counter
b_total{a="n\nl",z="1"} 0.5
b_total{a="x\"y\\z",z="2"} 3
# HELP c_seconds A histogram.
# TYPE c_seconds histogram
c_seconds_bucket{m="x",le="0.1"} 2
c_seconds_bucket{m="x",le="1"} 3
c_seconds_bucket{m="x",le="+Inf"} 4
c_seconds_sum{m="x"} 7.65
c_seconds_count{m="x"} 4
`
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRuntimeFamilies(t *testing.T) {
	r := &registry{}
	r.collect(runtimeFamilies)
	var out strings.Builder
	if err := r.write(&out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go_goroutines ", "go_info{version=", "go_memstats_alloc_bytes ", "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ", "process_start_time_seconds "} {
		if !strings.Contains(out.String(), "\n"+name) {
			t.Errorf("no %s line in\n%s", name, out.String())
		}
	}
}
