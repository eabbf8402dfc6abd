// Package s3test runs a real S3 server for tests: the Versity S3 Gateway
// (versitygw), which serves a local directory as buckets. A mock would
// agree with our own reading of the S3 protocol; a real server checks
// signatures, ranges, preconditions and error codes as a store does.
package s3test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// modFile is where the repository pins versitygw, relative to its root.
const modFile = "scripts/versitygw.mod"

// modulePath is the module that holds versitygw's main package.
const modulePath = "github.com/versity/versitygw"

// binaryMu guards binaryPath, which is the binary found or built by an
// earlier call in this process.
var (
	binaryMu   sync.Mutex
	binaryPath string
)

// Binary is the path of a versitygw binary: $TALLY_VERSITYGW when set,
// else one built from the version pinned in scripts/versitygw.mod into the
// user's cache directory. The build takes about a minute the first time;
// test packages that run in parallel wait for one build under a file lock
// rather than each building their own. A failed build fails the test with
// its output: a test that needs S3 must not pass by skipping.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("TALLY_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("TALLY_VERSITYGW: %v", err)
		}
		return p
	}
	binaryMu.Lock()
	defer binaryMu.Unlock()
	if binaryPath != "" {
		return binaryPath
	}
	p, err := buildCached(tb)
	if err != nil {
		tb.Fatalf("versitygw: %v (set TALLY_VERSITYGW to a versitygw binary to skip the build)", err)
	}
	binaryPath = p
	return p
}

// buildCached returns the cached binary, building it first if it is missing.
func buildCached(tb testing.TB) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	version, err := pinnedVersion(filepath.Join(root, modFile))
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory: %w", err)
	}
	dir := filepath.Join(cache, "tally", "versitygw-"+version)
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have built it while this one waited for the lock.
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tb.Logf("building versitygw %s into %s (about a minute, once)", version, dir)
	tmp := filepath.Join(dir, fmt.Sprintf("versitygw.tmp-%d", os.Getpid()))
	defer os.Remove(tmp)
	cmd := exec.Command("go", "build", "-modfile="+filepath.Join(root, modFile), "-o", tmp, modulePath+"/cmd/versitygw")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", modulePath, err, out)
	}
	// The rename is atomic, so a process that finds bin finds all of it.
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// lockFile takes an exclusive lock on path, waiting for it, and returns
// its release. The kernel drops the lock if the process dies.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// repoRoot walks up from the working directory, which go test sets to the
// package's, to the directory that holds scripts/versitygw.mod.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, modFile)); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no %s in %s or above", modFile, wd)
		}
	}
}

// pinnedVersion is the version of versitygw that the mod file requires,
// which names the cached binary so that a new pin builds a new one.
func pinnedVersion(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == modulePath {
			return fields[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s does not require %s", path, modulePath)
}
