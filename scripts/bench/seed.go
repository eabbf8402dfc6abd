package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// seedPeers finds the seed's own word counts: seed.py (run by python3) and
// the Rust program in rust/, built offline against Debian's crates when
// cargo is installed. What is missing is noted, never skipped silently.
func (b *bench) seedPeers() {
	if b.cfg.seedDir == "" {
		b.note("seed rows (Python and Rust) skipped: -seed is empty")
		return
	}
	dir, err := filepath.Abs(b.cfg.seedDir)
	if err != nil {
		b.note(fmt.Sprintf("seed rows skipped: %v", err))
		return
	}
	switch py := filepath.Join(dir, "seed.py"); {
	case !exists(py):
		b.note("seed Python rows skipped: no " + py)
	default:
		if _, err := exec.LookPath("python3"); err != nil {
			b.note("seed Python rows skipped: python3 not installed")
		} else {
			b.seedPy = py
		}
	}
	bin, err := buildSeedcount(b.cfg, filepath.Join(dir, "rust"))
	if err != nil {
		b.note("seed Rust rows skipped: " + err.Error())
		return
	}
	b.seedcount = bin
}

// buildSeedcount builds the Rust word count with cargo, offline, into the
// work directory. Cargo reads src's .cargo/config.toml (which replaces
// crates.io by Debian's /usr/share/cargo/registry) only when it runs there.
func buildSeedcount(cfg config, src string) (string, error) {
	if !exists(filepath.Join(src, "Cargo.toml")) {
		return "", fmt.Errorf("no %s", filepath.Join(src, "Cargo.toml"))
	}
	cargo, err := exec.LookPath("cargo")
	if err != nil {
		home, _ := os.UserHomeDir()
		cargo = filepath.Join(home, ".cargo", "bin", "cargo")
		if !exists(cargo) {
			return "", errors.New("cargo not installed (rustup, or apt-get install cargo)")
		}
	}
	if !exists("/usr/share/cargo/registry") {
		return "", errors.New("no /usr/share/cargo/registry: apt-get install librust-rayon-dev")
	}
	target := filepath.Join(cfg.work, "rust-target")
	cmd := exec.Command(cargo, "build", "--release", "--quiet")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CARGO_TARGET_DIR="+target)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cargo build in %s: %w: %s", src, err, firstLine(string(out)))
	}
	return filepath.Join(target, "release", "seedcount"), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
