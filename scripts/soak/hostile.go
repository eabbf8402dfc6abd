package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/internal/forger"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// hostile plays the strangers of a shared network against the soak's
// cluster, which runs with a gossip key: a node without the key that keeps
// trying to join and advertises a worker of its own, and, each time chaos
// kills a worker, a process that takes the dead worker's gRPC port before
// memberlist declares it dead. Both answer any task with forged counts;
// the soak fails if either ever receives one.
type hostile struct {
	keyFile string
	tasks   atomic.Int64 // tasks the strangers received
	taken   atomic.Int64 // dead workers' ports taken

	mu      sync.Mutex // guards servers
	servers map[string]*grpc.Server
	node    *cluster.Node
}

// newHostile writes the cluster's gossip key into dir and starts the
// stranger without it, joining gossip.
func newHostile(dir string) (*hostile, error) {
	h := &hostile{servers: map[string]*grpc.Server{}, keyFile: filepath.Join(dir, "gossip.key")}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(h.keyFile, []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
		return nil, err
	}
	return h, nil
}

// join starts the keyless stranger, which keeps trying to join gossip.
func (h *hostile) join(gossip string) error {
	addr, err := h.serve("127.0.0.1:0", "stranger")
	if err != nil {
		return err
	}
	cfg := cluster.DefaultConfig()
	cfg.NodeName, cfg.Join = "stranger", []string{gossip}
	cfg.Meta = cluster.Meta{Role: cluster.RoleWorker, GRPCAddr: addr, Cores: 4}
	node, err := cluster.Start(cfg)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.node = node
	h.mu.Unlock()
	return nil
}

// takePort serves a forger on a dead worker's address, if it is free.
func (h *hostile) takePort(addr, name string) {
	if _, err := h.serve(addr, name); err == nil {
		h.taken.Add(1)
	}
}

// release frees a taken port, for the worker to restart on it.
func (h *hostile) release(addr string) {
	h.mu.Lock()
	s := h.servers[addr]
	delete(h.servers, addr)
	h.mu.Unlock()
	if s != nil {
		s.Stop()
	}
}

func (h *hostile) serve(addr, name string) (string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s := grpc.NewServer()
	tallyv1.RegisterWorkerServiceServer(s, &forger.Forger{Name: name, Tasks: &h.tasks})
	h.mu.Lock()
	h.servers[lis.Addr().String()] = s
	h.mu.Unlock()
	go s.Serve(lis)
	return lis.Addr().String(), nil
}

// joined reports whether the stranger got into the cluster.
func (h *hostile) joined() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.node != nil && len(h.node.Members()) > 1
}

func (h *hostile) close() {
	h.mu.Lock()
	node, servers := h.node, h.servers
	h.servers = map[string]*grpc.Server{}
	h.mu.Unlock()
	if node != nil {
		node.Leave(time.Second)
	}
	for _, s := range servers {
		s.Stop()
	}
}

func (h *hostile) report() string {
	return fmt.Sprintf("stranger joined %t; %d dead workers' ports taken; %d tasks reached a stranger", h.joined(), h.taken.Load(), h.tasks.Load())
}
