package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// docker-compose's certs service runs as root, writes into a directory that
// Docker may have just made (owned by root), and leaves the files as the
// host's user and the containers need them: owned by the user who owns the
// checkout, so that the host's CLI can read client-key.pem, with the nodes'
// files in the group the coordinator and workers run as, so that they can
// read their keys without running as that user.

// nodeFiles are what the coordinator and worker containers read.
var nodeFiles = []string{"ca.pem", "coordinator.pem", "coordinator-key.pem", "worker.pem", "worker-key.pem"}

// ownerFiles are for the host's CLI only.
var ownerFiles = []string{"client.pem", "client-key.pem"}

// nodeUser is the UID:GID the coordinator and workers run as.
type nodeUser struct{ uid, gid int }

func parseNodeUser(s string) (nodeUser, error) {
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return nodeUser{}, fmt.Errorf("-nodes %q: want UID:GID, two numbers", s)
	}
	return nodeUser{uid, gid}, nil
}

func dirFile(dir, name string) string { return filepath.Join(dir, name) }

// nodeSet is every file the nodes read, with gossip.key when it is made here.
func nodeSet(gossip bool) []string {
	if gossip {
		return append(append([]string(nil), nodeFiles...), "gossip.key")
	}
	return nodeFiles
}

// writeGossipKey writes a random 32-byte gossip key, base64, unless there is one.
func writeGossipKey(dir string) error {
	path := dirFile(dir, "gossip.key")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", path)
	return nil
}

// share gives dir and its files to the owner of ownerOf (if set) and, if
// withNodes, makes the nodes' files readable by group who.gid: mode 0640
// for keys, 0644 for certificates, 0750 for dir. client-key.pem stays 0600.
func share(dir, ownerOf string, who nodeUser, withNodes bool) error {
	uid, gid := os.Getuid(), os.Getgid()
	if ownerOf != "" {
		fi, err := os.Stat(ownerOf)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		uid, gid = int(st.Uid), int(st.Gid)
	}
	dirMode := fs.FileMode(0o755)
	if withNodes {
		gid = who.gid
		dirMode = 0o750
	}
	if err := chown(dir, uid, gid, dirMode); err != nil {
		return err
	}
	for _, name := range append(nodeSet(true), ownerFiles...) {
		mode := fs.FileMode(0o644)
		switch {
		case name == "client-key.pem":
			mode = 0o600
		case strings.HasSuffix(name, "-key.pem") || name == "gossip.key":
			mode = 0o600
			if withNodes {
				mode = 0o640
			}
		}
		if err := chown(dirFile(dir, name), uid, gid, mode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	fmt.Printf("%s and its files belong to %d:%d; the nodes' keys are readable by group %d\n", dir, uid, gid, gid)
	return nil
}

func chown(path string, uid, gid int, mode fs.FileMode) error {
	if err := os.Chown(path, uid, gid); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// checkSet reports a file of the set that is missing, or one the nodes
// (if withNodes) cannot read, with what to do about it.
func checkSet(dir string, gossip bool, who nodeUser, withNodes bool) error {
	for _, name := range append(nodeSet(gossip), ownerFiles...) {
		if _, err := os.Stat(dirFile(dir, name)); err != nil {
			return fmt.Errorf("%s holds ca.pem but not %s: remove the directory to make a new set", dir, name)
		}
	}
	if !withNodes {
		return nil
	}
	if !canAccess(dir, who, 0o1) {
		return fmt.Errorf("the nodes (user %d:%d) cannot enter %s: %s", who.uid, who.gid, dir, remedy)
	}
	for _, name := range nodeSet(gossip) {
		if !canAccess(dirFile(dir, name), who, 0o4) {
			return fmt.Errorf("the nodes (user %d:%d) cannot read %s: %s", who.uid, who.gid, dirFile(dir, name), remedy)
		}
	}
	return nil
}

const remedy = "run them as its owner (TALLY_UID and TALLY_GID in .env) or remove the directory to make a new set"

// canAccess tells whether who has permission bit (4 read, 1 execute) on
// path, by its owner, group and mode as Unix checks them (root may do all).
func canAccess(path string, who nodeUser, bit fs.FileMode) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	st := fi.Sys().(*syscall.Stat_t)
	perm := fi.Mode().Perm()
	switch {
	case who.uid == 0:
		return true
	case int(st.Uid) == who.uid:
		return perm&(bit<<6) != 0
	case int(st.Gid) == who.gid:
		return perm&(bit<<3) != 0
	default:
		return perm&bit != 0
	}
}
