package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
)

// TestEngineProcessMatchesRun checks every query over every shared text against
// the single-pass reference, and that the result echoes the task's identity.
func TestEngineProcessMatchesRun(t *testing.T) {
	e := NewEngine(2)
	texts := MustReadTexts(t)
	for qname, q := range testQueries() {
		t.Run(qname, func(t *testing.T) {
			for name, data := range texts {
				tk := task.Task{JobID: "job-" + qname, ChunkID: 7, Attempt: 2, Query: q, Data: data}
				res := e.Process(context.Background(), tk)
				if res.Err != nil {
					t.Fatalf("%s: got error %v, want none", name, res.Err)
				}
				if res.JobID != tk.JobID || res.ChunkID != 7 || res.Attempt != 2 {
					t.Errorf("%s: got id %s/%d/%d, want %s/7/2", name, res.JobID, res.ChunkID, res.Attempt, tk.JobID)
				}
				if d := diffPartial(res.Partial, MustRun(t, q.Spec, data)); d != "" {
					t.Errorf("%s: %s", name, d)
				}
			}
		})
	}
}

// TestEngineConcurrent runs many tasks of several specs at once (the race
// detector checks the program cache) and checks each answer.
func TestEngineConcurrent(t *testing.T) {
	e := NewEngine(3)
	texts := MustReadTexts(t)
	names := make([]string, 0, len(texts))
	for n := range texts {
		names = append(names, n)
	}
	sort.Strings(names)
	queries := testQueries()
	qnames := make([]string, 0, len(queries))
	for n := range queries {
		qnames = append(qnames, n)
	}
	sort.Strings(qnames)

	type job struct {
		q    query.Job
		data []byte
		what string
	}
	var jobs []job
	for i, qn := range qnames {
		for _, n := range names[:min(4, len(names))] {
			jobs = append(jobs, job{queries[qn], texts[names[(i+len(n))%len(names)]], qn + " on " + names[(i+len(n))%len(names)]})
		}
	}
	results := make([]task.Result, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			results[i] = e.Process(context.Background(), task.Task{JobID: "same-job", ChunkID: uint64(i), Query: j.q, Data: j.data})
		})
	}
	wg.Wait()
	for i, j := range jobs {
		if results[i].Err != nil {
			t.Errorf("%s: got error %v, want none", j.what, results[i].Err)
			continue
		}
		if d := diffPartial(results[i].Partial, MustRun(t, j.q.Spec, j.data)); d != "" {
			t.Errorf("%s: %s", j.what, d)
		}
	}
}

// TestEngineProgramCache checks that compiled programs are keyed by the spec:
// different specs sent under one job id each get their own answer, and equal
// specs share one program.
func TestEngineProgramCache(t *testing.T) {
	data := []byte("the cat ab c abc\nThe a bc the\n")
	cq := func(m query.Mode, ic bool, targets ...string) query.Job {
		return query.Job{Spec: query.Spec{Count: &query.Count{Mode: m, Targets: targets, IgnoreCase: ic}}}
	}
	specs := []struct {
		name string
		q    query.Job
	}{
		{"token the", cq(query.Token, false, "the")},
		{"token the -i", cq(query.Token, true, "the")},
		{"substring the", cq(query.Substring, false, "the")},
		{"word the", cq(query.Word, false, "the")},
		// Same concatenation of targets, cut differently: the key must tell them apart.
		{"substring ab,c", cq(query.Substring, false, "ab", "c")},
		{"substring a,bc", cq(query.Substring, false, "a", "bc")},
		{"top", query.Job{Spec: query.Spec{Top: &query.Top{}}}},
		{"top lower", query.Job{Spec: query.Spec{Top: &query.Top{Lower: true}}}},
		{"top words", query.Job{Spec: query.Spec{Top: &query.Top{WordsOnly: true}}}},
		// The same queries with statistics: a program without them would
		// report 0 lines and 0 tokens.
		{"token the, stats", query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"the"}}, Stats: true}}},
		{"top, stats", query.Job{Spec: query.Spec{Top: &query.Top{}, Stats: true}}},
	}
	e := NewEngine(1)
	for round := range 2 {
		for _, s := range specs {
			t.Run(fmt.Sprintf("%s/round %d", s.name, round), func(t *testing.T) {
				res := e.Process(context.Background(), task.Task{JobID: "one-job", ChunkID: 1, Query: s.q, Data: data})
				if res.Err != nil {
					t.Fatalf("got error %v, want none", res.Err)
				}
				if d := diffPartial(res.Partial, MustRun(t, s.q.Spec, data)); d != "" {
					t.Error(d)
				}
			})
		}
	}
	e.mu.Lock()
	n := len(e.programs)
	e.mu.Unlock()
	if n != len(specs) {
		t.Errorf("got %d cached programs after two rounds, want %d (one per spec)", n, len(specs))
	}
}

// TestEngineProgramCacheBounded checks that the cache stays bounded and an
// evicted spec is compiled again with the right answer.
func TestEngineProgramCacheBounded(t *testing.T) {
	e := NewEngine(1)
	data := []byte("t0 t1 t2 t3 t70 t70\n")
	for i := range programCacheSize + 10 {
		target := fmt.Sprintf("t%d", i)
		q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{target}}}}
		res := e.Process(context.Background(), task.Task{JobID: "j", Query: q, Data: data})
		if d := diffPartial(res.Partial, MustRun(t, q.Spec, data)); res.Err != nil || d != "" {
			t.Fatalf("target %s: got err %v, diff %s; want the reference", target, res.Err, d)
		}
	}
	e.mu.Lock()
	n := len(e.programs)
	e.mu.Unlock()
	if n != programCacheSize {
		t.Errorf("got %d cached programs, want %d", n, programCacheSize)
	}
	q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"t0"}}}}
	if res := e.Process(context.Background(), task.Task{Query: q, Data: data}); res.Err != nil || res.Partial.Counts[0] != 1 {
		t.Errorf("evicted spec: got counts %v err %v, want [1]", res.Partial.Counts, res.Err)
	}
}

// TestEngineBadSpec checks that a spec the kernel rejects is an error result.
func TestEngineBadSpec(t *testing.T) {
	e := NewEngine(1)
	for name, q := range map[string]query.Job{
		"empty target":   {Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{""}}}},
		"space in token": {Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"a b"}}}},
		"no query":       {},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.Process(context.Background(), task.Task{JobID: "j", ChunkID: 3, Attempt: 1, Query: q, Data: []byte("a b\n")})
			if res.Err == nil {
				t.Fatalf("got no error, want one")
			}
			if res.JobID != "j" || res.ChunkID != 3 || res.Attempt != 1 {
				t.Errorf("got id %s/%d/%d, want j/3/1", res.JobID, res.ChunkID, res.Attempt)
			}
		})
	}
}

func TestNewEngineThreads(t *testing.T) {
	if got := NewEngine(3).Threads(); got != 3 {
		t.Errorf("got %d threads, want 3", got)
	}
	if got := NewEngine(0).Threads(); got < 1 {
		t.Errorf("got %d threads for 0, want GOMAXPROCS (>= 1)", got)
	}
}

// TestEngineMatcherBudget: a task whose matcher would be above the
// engine's budget is refused with a memory error, before compiling; the
// cached programs' matchers stay within the budget together.
func TestEngineMatcherBudget(t *testing.T) {
	long := make([]string, 60)
	for i := range long {
		long[i] = strings.Repeat(string(rune('a'+i%26)), 4000) + strconv.Itoa(i)
	}
	big := query.Count{Mode: query.Substring, Targets: long}
	e := NewEngine(1)
	e.SetMaxMatcher(count.MatcherBytes(big) - 1)
	res := e.Process(context.Background(), task.Task{JobID: "j", Query: query.Job{Spec: query.Spec{Count: &big}}, Data: []byte("a\n")})
	if !errors.Is(res.Err, task.ErrMemory) || !strings.Contains(res.Err.Error(), "--max-matcher-memory") {
		t.Fatalf("got %v, want a memory error naming the flag", res.Err)
	}
	if len(e.programs) != 0 {
		t.Errorf("got %d cached programs, want none", len(e.programs))
	}
	// Programs of half the budget each: at most two are cached at once.
	e.SetMaxMatcher(2*count.MatcherBytes(query.Count{Mode: query.Substring, Targets: long[:50]}) + 4096)
	for i := range 5 {
		q := query.Count{Mode: query.Substring, Targets: long[i : i+50]}
		res := e.Process(context.Background(), task.Task{JobID: "j", Query: query.Job{Spec: query.Spec{Count: &q}}, Data: []byte("a\n")})
		if res.Err != nil {
			t.Fatalf("job %d: %v", i, res.Err)
		}
	}
	if e.cached > e.maxMatcher || len(e.programs) != 2 {
		t.Errorf("got %d programs of %d bytes cached, want 2 within %d", len(e.programs), e.cached, e.maxMatcher)
	}
}

// TestEngineTopBudget: a top task whose table would grow beyond the
// engine's budget is refused with a memory error; a small one is counted.
func TestEngineTopBudget(t *testing.T) {
	var b bytes.Buffer
	for i := range 200_000 {
		fmt.Fprintf(&b, "tok%d\n", i)
	}
	e := NewEngine(1)
	e.SetMaxTop(1 << 20)
	top := query.Job{Spec: query.Spec{Top: &query.Top{}}}
	res := e.Process(context.Background(), task.Task{JobID: "j", Query: top, Data: b.Bytes()})
	if !errors.Is(res.Err, task.ErrMemory) || !strings.Contains(res.Err.Error(), "--max-top-memory") {
		t.Fatalf("got %v, want a memory error naming the flag", res.Err)
	}
	res = e.Process(context.Background(), task.Task{JobID: "j", Query: top, Data: []byte("a b a\n")})
	if res.Err != nil || res.Partial.Freq.Len() != 2 {
		t.Errorf("small task: got %v and %d tokens, want 2 tokens", res.Err, res.Partial.Freq.Len())
	}
}
