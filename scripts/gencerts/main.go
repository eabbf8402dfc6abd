// Command gencerts writes a development CA and certificates for a secure
// tally cluster; see scripts/gen-certs.sh.
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
	flag.Parse()
	if err := security.WriteDevCerts(*dir, time.Duration(*days)*24*time.Hour); err != nil {
		fmt.Fprintln(os.Stderr, "gencerts:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s/ca.pem and coordinator, worker, client certificates (names: %v)\n", *dir, security.DevNames)
}
