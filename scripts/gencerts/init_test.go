package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRunWritesASetAndKeepsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := run(dir, 1, true, true, "", ""); err != nil {
		t.Fatalf("first run: %v", err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "gossip.key"))
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(key))); err != nil || len(raw) != 32 {
		t.Fatalf("gossip.key %q: got %d bytes (err %v), want 32", key, len(raw), err)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err := run(dir, 1, true, true, "", ""); err != nil {
		t.Fatalf("second run with -keep: %v", err)
	}
	ca2, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if !bytes.Equal(ca, ca2) {
		t.Fatal("-keep wrote a new CA over the existing one")
	}
	if err := os.Remove(filepath.Join(dir, "worker-key.pem")); err != nil {
		t.Fatal(err)
	}
	err = run(dir, 1, true, true, "", "")
	if err == nil || !strings.Contains(err.Error(), "not worker-key.pem") {
		t.Fatalf("-keep with worker-key.pem missing: got %v, want an error naming it", err)
	}
}

func TestCheckSetNodesMustReadTheirKeys(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir, 1, true, false, "", ""); err != nil {
		t.Fatal(err)
	}
	me := nodeUser{os.Getuid(), os.Getgid()}
	if err := checkSet(dir, true, me, true); err != nil {
		t.Fatalf("the owner: %v", err)
	}
	if me.uid == 0 {
		t.Skip("root reads everything: the rest needs another user")
	}
	// Keys are 0600: another user in another group cannot read them.
	other := nodeUser{me.uid + 1, me.gid + 1}
	err := checkSet(dir, true, other, true)
	if err == nil || !strings.Contains(err.Error(), "cannot read") || !strings.Contains(err.Error(), "-key.pem") {
		t.Fatalf("another user: got %v, want cannot read a key", err)
	}
	// Group-readable keys (as share makes them) are enough for a user of that group.
	for _, n := range nodeSet(true) {
		if err := os.Chmod(filepath.Join(dir, n), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkSet(dir, true, nodeUser{me.uid + 1, me.gid}, true); err != nil {
		t.Fatalf("a user of the files' group: %v", err)
	}
}

func TestShareGivesFilesToOwnerAndNodesGroup(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("chown needs root (docker-compose's certs service runs as root)")
	}
	project := t.TempDir()
	if err := os.Chown(project, 4242, 4343); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	if err := run(dir, 1, true, true, project, "65532:65532"); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		".": 0o750, "ca.pem": 0o644, "worker.pem": 0o644, "worker-key.pem": 0o640,
		"coordinator-key.pem": 0o640, "gossip.key": 0o640, "client.pem": 0o644, "client-key.pem": 0o600,
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 4242 || st.Gid != 65532 || fi.Mode().Perm() != mode {
			t.Errorf("%s: got %d:%d %o, want 4242:65532 %o", name, st.Uid, st.Gid, fi.Mode().Perm(), mode)
		}
	}
	if err := checkSet(dir, true, nodeUser{65532, 65532}, true); err != nil {
		t.Errorf("the nodes: %v", err)
	}
	if err := checkSet(dir, true, nodeUser{65532, 1}, true); err == nil {
		t.Error("a user outside the nodes' group: got nil, want an error")
	}
}

func TestParseNodeUser(t *testing.T) {
	for _, s := range []string{"", "65532", "a:b", "1:", "-1:2"} {
		if _, err := parseNodeUser(s); err == nil {
			t.Errorf("parseNodeUser(%q): got nil, want an error", s)
		}
	}
	if u, err := parseNodeUser("1000:65532"); err != nil || u != (nodeUser{1000, 65532}) {
		t.Errorf("parseNodeUser(1000:65532): got %v %v, want {1000 65532}", u, err)
	}
}
