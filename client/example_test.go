package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/worker"
)

// startCoordinator runs a coordinator with one in-process worker, as a
// stand-in for a cluster, and returns its address.
func startCoordinator() (addr string, stop func()) {
	engine := worker.NewEngine(2)
	cfg := coordinator.DefaultConfig()
	cfg.Dial = worker.LocalDialer(engine)
	c, err := coordinator.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	c.AddWorker("example", "in-process", engine.Threads())
	return c.Addr(), func() { c.Close() }
}

// Count words in texts that are already in memory, like parallel_word_count(texts, words).
func ExampleClient_CountTexts() {
	addr, stop := startCoordinator()
	defer stop()

	c, err := client.Dial(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	texts := []string{"the cat and the hat\n", "The end of the story"}
	res, err := c.CountTexts(context.Background(), texts, query.Count{Mode: query.Token, Targets: []string{"the", "The"}}, false)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range res.Documents {
		fmt.Println(d.Name, d.Counts)
	}
	fmt.Println("total", res.Total.Counts)
	// Output:
	// 0 [2 0]
	// 1 [1 1]
	// total [3 1]
}

// Run a top job over documents of any size, streamed to the coordinator.
func ExampleClient_Run() {
	addr, stop := startCoordinator()
	defer stop()

	c, err := client.Dial(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	doc := func(name, text string) client.Document {
		return client.Document{Name: name, Size: int64(len(text)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(text)), nil
		}}
	}
	job := client.Job{
		Query:     query.Job{Spec: query.Spec{Top: &query.Top{Lower: true}, Stats: true}, TopLimit: 2},
		ChunkSize: 16, // tiny chunks: the answer does not depend on them
		Documents: []client.Document{doc("a.txt", "To be, or not to be:\nthat is the question.\n"), doc("b.txt", "To do is to be.\n")},
	}
	res, err := c.Run(context.Background(), job, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range res.Top {
		fmt.Println(e.Token, e.Count)
	}
	fmt.Println(res.Total.Stats.Tokens, "tokens in", len(res.Documents), "documents")
	// Output:
	// to 4
	// is 2
	// 15 tokens in 2 documents
}
