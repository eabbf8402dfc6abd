package main

import "testing"

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
