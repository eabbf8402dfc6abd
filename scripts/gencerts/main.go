// Command gencerts writes a development CA and certificates for a secure
// tally cluster; see scripts/gen-certs.sh. docker-compose.yml runs it as its
// one-shot certs service (as root, see init.go):
//
//	gencerts -dir /certs -gossip-key -keep -owner-of /project -nodes 65532:65532
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tallyhq/tally/security"
)

func main() {
	dir := flag.String("dir", "certs", "directory to write the PEM files into")
	days := flag.Int("days", 365, "validity in days")
	gossip := flag.Bool("gossip-key", false, "also write DIR/gossip.key, the cluster's gossip encryption key")
	keep := flag.Bool("keep", false, "if DIR already holds ca.pem, write nothing: check that every file is there (and readable by -nodes)")
	ownerOf := flag.String("owner-of", "", "give DIR and its files to the owner of this path (needs root)")
	nodes := flag.String("nodes", "", "UID:GID the coordinator and workers run as: their keys and gossip.key become readable by group GID (needs root)")
	flag.Parse()
	if err := run(*dir, *days, *gossip, *keep, *ownerOf, *nodes); err != nil {
		fmt.Fprintln(os.Stderr, "gencerts:", err)
		os.Exit(1)
	}
}

func run(dir string, days int, gossip, keep bool, ownerOf, nodes string) error {
	var who nodeUser
	if nodes != "" {
		var err error
		if who, err = parseNodeUser(nodes); err != nil {
			return err
		}
	}
	if keep {
		if _, err := os.Stat(dirFile(dir, "ca.pem")); err == nil {
			if err := checkSet(dir, gossip, who, nodes != ""); err != nil {
				return err
			}
			fmt.Printf("kept %s: it already holds a CA and certificates\n", dir)
			return nil
		}
	}
	if err := security.WriteDevCerts(dir, time.Duration(days)*24*time.Hour); err != nil {
		return err
	}
	fmt.Printf("wrote %s/ca.pem and coordinator, worker, client certificates (names: %v)\n", dir, security.DevNames)
	if gossip {
		if err := writeGossipKey(dir); err != nil {
			return err
		}
	}
	if ownerOf == "" && nodes == "" {
		return nil
	}
	return share(dir, ownerOf, who, nodes != "")
}
