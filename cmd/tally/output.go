package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"tally/client"
	"tally/count"
	"tally/wire"
)

// The JSON output is a public contract: fields may be added, never renamed or removed.

type statsJSON struct {
	Name   string           `json:"name,omitempty"`
	Bytes  int64            `json:"bytes"`
	Lines  int64            `json:"lines"`
	Tokens int64            `json:"tokens"`
	Counts map[string]int64 `json:"counts,omitempty"`
}

type countOutput struct {
	Job        string      `json:"job"`
	Mode       string      `json:"mode"`
	IgnoreCase bool        `json:"ignore_case"`
	Targets    []string    `json:"targets"`
	Documents  []statsJSON `json:"documents"`
	Total      statsJSON   `json:"total"`
	Workers    int         `json:"workers"`
	Elapsed    float64     `json:"elapsed_seconds"`
}

type topEntry struct {
	Token string `json:"token"`
	Count int64  `json:"count"`
}

type topOutput struct {
	Job        string      `json:"job"`
	Mode       string      `json:"mode"`
	IgnoreCase bool        `json:"ignore_case"`
	WordsOnly  bool        `json:"words_only"`
	Lower      bool        `json:"lower"`
	Limit      int         `json:"n"`
	Documents  []statsJSON `json:"documents"`
	Total      statsJSON   `json:"total"`
	Top        []topEntry  `json:"top"`
	Workers    int         `json:"workers"`
	Elapsed    float64     `json:"elapsed_seconds"`
}

func docJSON(d client.DocumentResult, targets []string) statsJSON {
	s := statsJSON{Name: d.Name, Bytes: d.Stats.Bytes, Lines: d.Stats.Lines, Tokens: d.Stats.Tokens}
	if targets != nil {
		s.Counts = map[string]int64{}
		for i, t := range targets {
			if i < len(d.Counts) {
				s.Counts[t] = d.Counts[i]
			}
		}
	}
	return s
}

func countJSON(r *client.Result, q wire.Query) countOutput {
	cq := q.Spec.Count
	out := countOutput{Job: r.JobID, Mode: cq.Mode.String(), IgnoreCase: cq.IgnoreCase, Targets: cq.Targets,
		Documents: []statsJSON{}, Workers: r.Workers, Elapsed: r.Elapsed.Seconds()}
	for _, d := range r.Documents {
		out.Documents = append(out.Documents, docJSON(d, cq.Targets))
	}
	out.Total = docJSON(r.Total, cq.Targets)
	out.Total.Name = ""
	return out
}

func topJSON(r *client.Result, q wire.Query) topOutput {
	mode := count.Token
	if q.Spec.Top.WordsOnly {
		mode = count.Word
	}
	out := topOutput{Job: r.JobID, Mode: mode.String(), WordsOnly: q.Spec.Top.WordsOnly, Lower: q.Spec.Top.Lower, Limit: q.TopLimit,
		Documents: []statsJSON{}, Top: []topEntry{}, Workers: r.Workers, Elapsed: r.Elapsed.Seconds()}
	for _, d := range r.Documents {
		out.Documents = append(out.Documents, docJSON(d, nil))
	}
	out.Total = docJSON(r.Total, nil)
	out.Total.Name = ""
	for _, e := range r.Top {
		out.Top = append(out.Top, topEntry{Token: e.Token, Count: e.Count})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeCountTable prints one row per document and a total row, numbers right-aligned.
func writeCountTable(out io.Writer, r *client.Result, targets []string) error {
	w := bufio.NewWriter(out) // tabwriter writes cell by cell
	// Numbers align right; names are padded here so that they align left.
	width := len("document")
	for _, d := range r.Documents {
		width = max(width, len(d.Name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tbytes\tlines\ttokens\t", width, "document")
	for _, t := range targets {
		fmt.Fprintf(tw, "%s\t", strconv.Quote(t)[1:len(strconv.Quote(t))-1])
	}
	fmt.Fprintln(tw)
	row := func(d client.DocumentResult) {
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t", width, d.Name, d.Stats.Bytes, d.Stats.Lines, d.Stats.Tokens)
		for _, n := range d.Counts {
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintln(tw)
	}
	for _, d := range r.Documents {
		row(d)
	}
	total := r.Total
	total.Name = "total"
	row(total)
	if err := tw.Flush(); err != nil {
		return err
	}
	return w.Flush()
}

// writeTopTable prints the frequency table, then the documents' totals:
// rank and count right-aligned in columns two spaces wider than their
// widest cell (as text/tabwriter would align them, which writes a full
// table of hundreds of thousands of rows several times slower).
func writeTopTable(out io.Writer, r *client.Result) error {
	rankWidth := max(len("rank"), len(strconv.Itoa(len(r.Top)))) + 2
	var most int64
	for _, e := range r.Top {
		most = max(most, e.Count)
	}
	countWidth := max(len("count"), len(strconv.FormatInt(most, 10))) + 2
	w := bufio.NewWriterSize(out, 64<<10)
	var line []byte
	cell := func(s []byte, width int) {
		for range width - len(s) {
			line = append(line, ' ')
		}
		line = append(line, s...)
	}
	cell([]byte("rank"), rankWidth)
	cell([]byte("count"), countWidth)
	line = append(line, " token\n"...)
	w.Write(line)
	var num [20]byte
	for i, e := range r.Top {
		line = line[:0]
		cell(strconv.AppendInt(num[:0], int64(i+1), 10), rankWidth)
		cell(strconv.AppendInt(num[:0], e.Count, 10), countWidth)
		line = append(line, ' ')
		start := len(line)
		line = strconv.AppendQuote(line, e.Token)
		line = append(line[:start], line[start+1:len(line)-1]...) // without the quotes
		line = append(line, '\n')
		w.Write(line)
	}
	fmt.Fprintf(w, "%d documents, %d bytes, %d lines, %d tokens\n", len(r.Documents), r.Total.Stats.Bytes, r.Total.Stats.Lines, r.Total.Stats.Tokens)
	return w.Flush()
}

// writeCountCSV prints a header, one row per document and a total row.
func writeCountCSV(w io.Writer, r *client.Result, targets []string) error {
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"document", "bytes", "lines", "tokens"}, targets...))
	row := func(name string, d client.DocumentResult) {
		rec := []string{name, strconv.FormatInt(d.Stats.Bytes, 10), strconv.FormatInt(d.Stats.Lines, 10), strconv.FormatInt(d.Stats.Tokens, 10)}
		for _, n := range d.Counts {
			rec = append(rec, strconv.FormatInt(n, 10))
		}
		cw.Write(rec)
	}
	for _, d := range r.Documents {
		row(d.Name, d)
	}
	row("total", r.Total)
	cw.Flush()
	return cw.Error()
}

// writeTopCSV prints rank, token and count rows.
func writeTopCSV(w io.Writer, r *client.Result) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"rank", "token", "count"})
	for i, e := range r.Top {
		cw.Write([]string{strconv.Itoa(i + 1), e.Token, strconv.FormatInt(e.Count, 10)})
	}
	cw.Flush()
	return cw.Error()
}
