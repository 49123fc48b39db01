package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuUse is the CPU time used so far by the server process and by the
// database cluster's processes (every child of the postmaster: the
// backends, the WAL writer, the checkpointer, autovacuum), read from /proc
// (Linux; clock ticks of 10 ms). A child that exited between two readings
// (an autovacuum worker) is missed, so the database's figure is a floor.
// The load generator, in this process, is in neither.
func (b *bench) cpuUse(ctx context.Context) (server, database time.Duration, err error) {
	var backend int
	if err := b.db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0, 0, err
	}
	postmaster := procStat(backend).ppid
	if b.server.cmd.Process != nil {
		server = procStat(b.server.cmd.Process.Pid).cpu
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if st := procStat(pid); st.ppid == postmaster && postmaster != 0 {
			database += st.cpu
		}
	}
	return server, database, nil
}

type stat struct {
	ppid int
	cpu  time.Duration
}

// procStat reads a process's parent and its CPU time (user and system)
// from /proc/PID/stat; zero when it is gone.
func procStat(pid int) stat {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}
	}
	s := string(data)
	// Fields after the command (which ends with ")"): ppid is the 2nd,
	// utime and stime the 12th and 13th.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return stat{}
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return stat{ppid: ppid, cpu: time.Duration(ut+st) * 10 * time.Millisecond}
}

// profileIf starts a CPU profile of the server into file, unless file is
// empty; the returned function stops it.
func (b *bench) profileIf(file string) (stop func() error, err error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	return b.server.profileCPU(abs)
}
