package main

import (
	"fmt"
	"os"
	"runtime"

	"tally/client"
	"tally/coordinator"
	"tally/worker"
)

// connect returns a client for addr, or for an embedded coordinator with one
// in-process worker when addr is empty. The embedded coordinator runs the
// same job code as a cluster's and is reached over gRPC on loopback; its
// worker link is in-process, and it reads local files itself instead of
// receiving them through gRPC. closeAll releases everything.
func connect(cf connFlags) (*client.Client, func(), error) {
	if cf.coordinator != "" {
		c, err := cf.dial()
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}
	engine := worker.NewEngine(0)
	cfg := coordinator.DefaultConfig()
	cfg.Dial = coordinator.LocalDialer(engine)
	cfg.DataDir = "." // in one process, the server's side is this directory
	cfg.LocalFiles = true
	// A few chunks per thread keep every core busy; a small window keeps
	// the recycled chunk buffers in the CPU's caches.
	cfg.Window = 2*runtime.GOMAXPROCS(0) + 4
	coord, err := coordinator.Start(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded coordinator: %w", err)
	}
	host, _ := os.Hostname()
	coord.AddWorker("embedded-"+host, "in-process", runtime.GOMAXPROCS(0))
	c, err := client.Dial(coord.Addr(), client.WithLocalFiles())
	if err != nil {
		coord.Close()
		return nil, nil, err
	}
	return c, func() { c.Close(); coord.Close() }, nil
}
