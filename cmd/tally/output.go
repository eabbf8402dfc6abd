package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// The JSON output is a public contract: fields may be added, never renamed
// or removed. A field that is present is exact; lines and tokens are present
// exactly when --stats asked for them (see README, "JSON output").

// skippedJSON is a file or directory that --skip-unreadable left out.
type skippedJSON struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

type statsJSON struct {
	Name   string           `json:"name,omitempty"`
	Bytes  int64            `json:"bytes"`
	Lines  *int64           `json:"lines,omitempty"`
	Tokens *int64           `json:"tokens,omitempty"`
	Counts map[string]int64 `json:"counts,omitempty"`
}

type countOutput struct {
	Job        string        `json:"job"`
	Mode       string        `json:"mode"`
	IgnoreCase bool          `json:"ignore_case"`
	Targets    []string      `json:"targets"`
	Documents  []statsJSON   `json:"documents"`
	Total      statsJSON     `json:"total"`
	Workers    int           `json:"workers"`
	Elapsed    float64       `json:"elapsed_seconds"`
	Skipped    []skippedJSON `json:"skipped,omitempty"`
}

// topOutput is written in three parts by writeJSON (see writeTopJSON): the
// table can hold hundreds of thousands of entries, too many for reflection.
// New fields go in topHead or topTail: writeTopJSON writes only those and Top.
type topOutput struct {
	topHead
	Top topTable `json:"top"`
	topTail
}

type topHead struct {
	Job        string      `json:"job"`
	Mode       string      `json:"mode"`
	IgnoreCase bool        `json:"ignore_case"`
	WordsOnly  bool        `json:"words_only"`
	Lower      bool        `json:"lower"`
	Limit      int         `json:"n"`
	Documents  []statsJSON `json:"documents"`
	Total      statsJSON   `json:"total"`
}

type topTail struct {
	Workers int           `json:"workers"`
	Elapsed float64       `json:"elapsed_seconds"`
	Skipped []skippedJSON `json:"skipped,omitempty"`
}

// topTable is encoded as [{"token":T,"count":N},...], an empty table as [].
type topTable []query.Entry

func docJSON(d client.DocumentResult, stats bool, targets []string) statsJSON {
	s := statsJSON{Name: d.Name, Bytes: d.Stats.Bytes}
	if stats {
		s.Lines, s.Tokens = &d.Stats.Lines, &d.Stats.Tokens
	}
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

func countJSON(r *client.Result, q query.Job) countOutput {
	cq := q.Spec.Count
	out := countOutput{Job: r.JobID, Mode: cq.Mode.String(), IgnoreCase: cq.IgnoreCase, Targets: cq.Targets,
		Documents: []statsJSON{}, Workers: r.Workers, Elapsed: r.Elapsed.Seconds()}
	for _, d := range r.Documents {
		out.Documents = append(out.Documents, docJSON(d, r.Stats, cq.Targets))
	}
	out.Total = docJSON(r.Total, r.Stats, cq.Targets)
	out.Total.Name = ""
	return out
}

func topJSON(r *client.Result, q query.Job) topOutput {
	mode := query.Token
	if q.Spec.Top.WordsOnly {
		mode = query.Word
	}
	head := topHead{Job: r.JobID, Mode: mode.String(), WordsOnly: q.Spec.Top.WordsOnly, Lower: q.Spec.Top.Lower, Limit: q.TopLimit,
		Documents: []statsJSON{}}
	for _, d := range r.Documents {
		head.Documents = append(head.Documents, docJSON(d, r.Stats, nil))
	}
	head.Total = docJSON(r.Total, r.Stats, nil)
	head.Total.Name = ""
	return topOutput{topHead: head, Top: r.Top, topTail: topTail{Workers: r.Workers, Elapsed: r.Elapsed.Seconds()}}
}

// writeJSON writes v as a json.Encoder with HTML escaping off would, newline included.
func writeJSON(w io.Writer, v any) error {
	if top, ok := v.(topOutput); ok {
		return writeTopJSON(w, top)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeTopJSON writes the small fields with encoding/json and streams the
// table between them, byte-identical to encoding the whole of out.
func writeTopJSON(w io.Writer, out topOutput) error {
	head, err := encodeJSON(out.topHead)
	if err != nil {
		return err
	}
	tail, err := encodeJSON(out.topTail)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// Neither part is ever {}: none of their fields is omitempty.
	bw.Write(head[:len(head)-1]) // without its closing brace
	bw.WriteString(`,"top":`)
	writeTopTableJSON(bw, out.Top)
	bw.WriteByte(',')
	bw.Write(tail[1:]) // without its opening brace
	bw.WriteByte('\n')
	return bw.Flush()
}

// encodeJSON returns v as writeJSON would write it, without the newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func writeTopTableJSON(w *bufio.Writer, t topTable) {
	w.WriteByte('[')
	for i, e := range t {
		b := w.AvailableBuffer() // appending here saves a copy when it fits
		if i > 0 {
			b = append(b, ',')
		}
		w.Write(appendTopEntryJSON(b, e))
	}
	w.WriteByte(']')
}

// MarshalJSON keeps encoding/json right about the table too; writeJSON streams it instead.
func (t topTable) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, e := range t {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTopEntryJSON(b, e)
	}
	return append(b, ']'), nil
}

func appendTopEntryJSON(dst []byte, e query.Entry) []byte {
	dst = append(dst, `{"token":`...)
	dst = appendJSONString(dst, e.Token)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, e.Count, 10)
	return append(dst, '}')
}

// appendJSONString quotes s exactly as encoding/json does with HTML escaping
// off (appendString in encoding/json/encode.go): tokens are raw bytes, so
// invalid UTF-8 must become \ufffd as it does there.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is still to be copied as is
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedASCII(dst, b)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var escaped string
		switch {
		case r == utf8.RuneError && size == 1:
			escaped = `\ufffd`
		case r == '\u2028':
			escaped = `\u2028` // line and paragraph separators break JSONP
		case r == '\u2029':
			escaped = `\u2029`
		default:
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, escaped...)
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscapedASCII escapes a quote, a backslash or a control character below space.
func appendEscapedASCII(dst []byte, b byte) []byte {
	switch b {
	case '"', '\\':
		return append(dst, '\\', b)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
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
	fmt.Fprintf(tw, "%-*s\tbytes\t", width, "document")
	if r.Stats {
		fmt.Fprint(tw, "lines\ttokens\t")
	}
	for _, t := range targets {
		fmt.Fprintf(tw, "%s\t", strconv.Quote(t)[1:len(strconv.Quote(t))-1])
	}
	fmt.Fprintln(tw)
	row := func(d client.DocumentResult) {
		fmt.Fprintf(tw, "%-*s\t%d\t", width, d.Name, d.Stats.Bytes)
		if r.Stats {
			fmt.Fprintf(tw, "%d\t%d\t", d.Stats.Lines, d.Stats.Tokens)
		}
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

// writeSkipped ends a table with the files --skip-unreadable left out, if any.
func writeSkipped(w io.Writer, skipped []skippedJSON) error {
	if len(skipped) == 0 {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "skipped, could not be read: %d\n", len(skipped))
	for _, s := range skipped {
		fmt.Fprintf(&b, "  %s: %s\n", s.Name, s.Error)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeTopTable prints the frequency table, then the documents' totals:
// rank and count right-aligned in columns two spaces wider than their
// widest cell (as text/tabwriter would align them, which writes a full
// table of hundreds of thousands of rows several times slower).
func writeTopTable(out io.Writer, r *client.Result) error {
	// A full table is hundreds of thousands of rows: each core formats a
	// share of them, and the shares are written in order.
	parts := 1
	if len(r.Top) >= minPartedRows {
		parts = runtime.GOMAXPROCS(0)
	}
	return writeTopTableIn(out, r, parts)
}

// writeTopTableIn is writeTopTable with the rows formatted in parts at once.
func writeTopTableIn(out io.Writer, r *client.Result, parts int) error {
	rankWidth := max(len("rank"), len(strconv.Itoa(len(r.Top)))) + 2
	var most int64
	for _, e := range r.Top {
		most = max(most, e.Count)
	}
	countWidth := max(len("count"), len(strconv.FormatInt(most, 10))) + 2
	w := bufio.NewWriterSize(out, 64<<10)
	head := appendCell(nil, []byte("rank"), rankWidth)
	head = appendCell(head, []byte("count"), countWidth)
	w.Write(append(head, " token\n"...))
	texts := make([][]byte, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(r.Top)/parts, (p+1)*len(r.Top)/parts
		wg.Go(func() {
			// Room for the rows as they are: growing by appends would copy them.
			size := 0
			for _, e := range r.Top[lo:hi] {
				size += rankWidth + countWidth + len(e.Token) + 2
			}
			texts[p] = appendTopRows(make([]byte, 0, size), r.Top[lo:hi], lo, rankWidth, countWidth)
		})
	}
	wg.Wait()
	for _, t := range texts {
		w.Write(t)
	}
	fmt.Fprintf(w, "%d documents, %d bytes", len(r.Documents), r.Total.Stats.Bytes)
	if r.Stats {
		fmt.Fprintf(w, ", %d lines, %d tokens", r.Total.Stats.Lines, r.Total.Stats.Tokens)
	}
	fmt.Fprintln(w)
	return w.Flush()
}

// minPartedRows is the fewest rows of a top table formatted on several
// cores: fewer take less than starting the goroutines.
const minPartedRows = 1 << 14

// appendTopRows appends the table's rows for top, whose first is ranked
// first+1.
func appendTopRows(dst []byte, top []query.Entry, first, rankWidth, countWidth int) []byte {
	var num [20]byte
	for i, e := range top {
		dst = appendCell(dst, strconv.AppendInt(num[:0], int64(first+i+1), 10), rankWidth)
		dst = appendCell(dst, strconv.AppendInt(num[:0], e.Count, 10), countWidth)
		dst = appendUnquoted(append(dst, ' '), e.Token)
		dst = append(dst, '\n')
	}
	return dst
}

// appendCell appends s right-aligned in width columns.
func appendCell(dst, s []byte, width int) []byte {
	for range width - len(s) {
		dst = append(dst, ' ')
	}
	return append(dst, s...)
}

// appendUnquoted appends token as strconv.Quote writes it, without the
// quotes. Nearly every token is printable ASCII that Quote leaves as it is,
// and copying those directly spares a per-rune pass over the whole table.
func appendUnquoted(dst []byte, token string) []byte {
	for i := 0; i < len(token); {
		b := token[i]
		if b < utf8.RuneSelf {
			if b < ' ' || b > '~' || b == '"' || b == '\\' {
				return appendQuoted(dst, token)
			}
			i++
			continue
		}
		// Quote leaves a printable character as it is, too (the texts'
		// curly quotes and accented letters).
		r, size := utf8.DecodeRuneInString(token[i:])
		if r == utf8.RuneError && size == 1 || !strconv.IsPrint(r) {
			return appendQuoted(dst, token)
		}
		i += size
	}
	return append(dst, token...)
}

// appendQuoted appends token as strconv.Quote writes it, without the quotes.
func appendQuoted(dst []byte, token string) []byte {
	start := len(dst)
	dst = strconv.AppendQuote(dst, token)
	return append(dst[:start], dst[start+1:len(dst)-1]...)
}

// writeCountCSV prints a header, one row per document and a total row.
func writeCountCSV(w io.Writer, r *client.Result, targets []string) error {
	cw := csv.NewWriter(w)
	head := []string{"document", "bytes"}
	if r.Stats {
		head = append(head, "lines", "tokens")
	}
	cw.Write(append(head, targets...))
	row := func(name string, d client.DocumentResult) {
		rec := []string{name, strconv.FormatInt(d.Stats.Bytes, 10)}
		if r.Stats {
			rec = append(rec, strconv.FormatInt(d.Stats.Lines, 10), strconv.FormatInt(d.Stats.Tokens, 10))
		}
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
