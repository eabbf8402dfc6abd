package s3test

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill cmd when the test process dies: a test
// binary killed by its timeout, or by a signal, runs no cleanups, and
// would leave the server running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
