package oidctest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel stop the provider if the test process dies.
func dieWithParent(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
