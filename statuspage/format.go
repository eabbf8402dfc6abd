package statuspage

import (
	"html/template"
	"math"
	"strconv"
	"time"
)

// How the pages write numbers. assets/live.js formats the same way
// (fmtBytes, fmtDur, ...), so that a value reads alike before and after
// the first update.

// formatBytes writes n bytes with a decimal unit and three significant
// digits: 950 B, 1.2 kB, 12.3 MB, 123 GB.
func formatBytes(n float64) string {
	if n < 1000 {
		return strconv.FormatFloat(math.Round(n), 'f', -1, 64) + " B"
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	i := -1
	for n >= 999.5 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return strconv.FormatFloat(n, 'g', 3, 64) + " " + units[i]
}

// formatDur writes seconds as 42s, 3m07s or 2h05m.
func formatDur(s float64) string {
	if s < 0 || math.IsNaN(s) {
		s = 0
	}
	n := int64(s)
	switch {
	case n < 60:
		return itoa(n) + "s"
	case n < 3600:
		return itoa(n/60) + "m" + pad2(n%60) + "s"
	}
	return itoa(n/3600) + "h" + pad2(n/60%60) + "m"
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// quote writes a target as a Go or JavaScript string literal would: in
// double quotes, with quotes and backslashes escaped.
func quote(s string) string { return strconv.Quote(s) }

// funcs are the templates' formatting functions; nil pointers (a value not
// known) print as an em dash.
var funcs = template.FuncMap{
	"bytes": func(n any) string { return formatBytes(toFloat(n)) },
	"rate":  func(n any) string { return formatBytes(toFloat(n)) + "/s" },
	"dur":   func(s float64) string { return formatDur(s) },
	"eta": func(s *float64) string {
		if s == nil {
			return "—"
		}
		return formatDur(*s)
	},
	"pct": func(f *float64) string {
		if f == nil {
			return "—"
		}
		return itoa(int64(math.Floor(*f*100))) + "%"
	},
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"onoff": func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	},
	"num": func(n any) string { return strconv.FormatFloat(toFloat(n), 'f', -1, 64) },
	"fraction": func(f *float64) string { // a <progress> value
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', 4, 64)
	},
	"inc": func(i int) int { return i + 1 },
}

func toFloat(n any) float64 {
	switch v := n.(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case float64:
		return v
	}
	panic("statuspage: not a number") // a template bug
}
