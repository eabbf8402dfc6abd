package statuspage

import (
	"strconv"
	"strings"
)

// The throughput chart is an inline SVG polyline, drawn here for the first
// render and by assets/live.js (drawChart, the same arithmetic) as samples
// arrive: no chart library, nothing fetched.

// The chart's drawing area, in SVG user units.
const (
	chartWidth  = 600
	chartHeight = 160
	headroom    = 1.25 // the top of the chart is this much above the peak
)

// chartData is what the template draws.
type chartData struct {
	Points  string  // the polyline's points, "" when there is nothing to draw
	Area    string  // the polygon under it
	MaxRate float64 // the peak, in bytes per second
	Span    float64 // seconds at its right edge
}

// chartPoints draws each sample's rate as a step over the interval it
// covers, from the job's start at the left to the last sample at the right.
func chartPoints(ps []ratePoint) chartData {
	if len(ps) == 0 {
		return chartData{}
	}
	c := chartData{MaxRate: 1, Span: max(ps[len(ps)-1].AtSeconds, 1)}
	for _, p := range ps {
		c.MaxRate = max(c.MaxRate, p.BytesPerSecond)
	}
	x := func(at float64) string { return strconv.FormatFloat(at/c.Span*chartWidth, 'f', 1, 64) }
	y := func(r float64) string {
		return strconv.FormatFloat(chartHeight-r/(c.MaxRate*headroom)*chartHeight, 'f', 1, 64)
	}
	var b strings.Builder
	prev := 0.0
	for _, p := range ps {
		b.WriteString(x(prev) + "," + y(p.BytesPerSecond) + " " + x(p.AtSeconds) + "," + y(p.BytesPerSecond) + " ")
		prev = p.AtSeconds
	}
	c.Points = strings.TrimSpace(b.String())
	c.Area = "0," + y(0) + " " + c.Points + " " + x(prev) + "," + y(0)
	return c
}
