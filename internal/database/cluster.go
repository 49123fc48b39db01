package database

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is a private PostgreSQL cluster in a folder of our own: created
// with initdb on first use, listening only on a unix socket that only its
// owner can open, started and stopped with pg_ctl.
type Cluster struct {
	// Dir is the cluster's data directory (PGDATA).
	Dir string
	// SocketDir holds the unix socket: Dir itself, or a short folder under
	// the temporary directory when Dir's path is too long for a socket.
	SocketDir string
	// BinDir holds initdb, pg_ctl and postgres.
	BinDir string
	// Settings are extra server settings (name → value) passed at start.
	Settings map[string]string
	// Log receives progress messages.
	Log *slog.Logger

	runAs *syscall.Credential // set when we are root: run the server as this user
}

// superuser is the name of the cluster's superuser role.
const superuser = "signoff"

// socketPathMax is the longest unix socket path Linux accepts, less a margin.
const socketPathMax = 100

// RootClusterHome is where NewCluster keeps a cluster, when running as
// root, whose folder the unprivileged "postgres" user cannot reach (a data
// folder under /root, for example): /var/lib/signoff/<hash of the path>/postgres.
const RootClusterHome = "/var/lib/signoff"

// NewCluster describes a cluster in dir; nothing is started or created.
// When the process runs as root, the cluster runs as the unprivileged
// "postgres" user (PostgreSQL refuses to run as root); if that user cannot
// reach dir, the cluster is kept under RootClusterHome instead (see
// NewClusterWithHome).
func NewCluster(dir string, log *slog.Logger) (*Cluster, error) {
	return NewClusterWithHome(dir, RootClusterHome, log)
}

// NewClusterWithHome is NewCluster with the folder under which a cluster
// the postgres user cannot reach is kept instead. The same dir always maps
// to the same folder there (named after the SHA-256 of dir's absolute
// path), so the cluster is found again on the next start.
func NewClusterWithHome(dir, home string, log *slog.Logger) (*Cluster, error) {
	if log == nil {
		log = slog.Default()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("database: cluster folder: %w", err)
	}
	bin, err := FindServerBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, BinDir: bin, Log: log, Settings: map[string]string{}}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("database: running as root, PostgreSQL needs an unprivileged user to run as, and there is no %q user (Debian's postgresql package creates it): %w", "postgres", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.runAs = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if blocked := c.unreachable(abs); blocked != "" {
			if c.Initialised() {
				return nil, fmt.Errorf("database: the private PostgreSQL in %s runs as the unprivileged user %q, which cannot enter %s; let it in (chmod o+x %s) or move the data folder", abs, "postgres", blocked, blocked)
			}
			if err := c.relocate(abs, home, blocked); err != nil {
				return nil, err
			}
		}
	}
	c.SocketDir = c.Dir
	if len(filepath.Join(c.Dir, ".s.PGSQL.5432.lock")) > socketPathMax {
		sum := sha256.Sum256([]byte(c.Dir))
		c.SocketDir = filepath.Join(os.TempDir(), "signoff-pg-"+hex.EncodeToString(sum[:6]))
	}
	return c, nil
}

// relocate moves the cluster's folder (not yet created) to
// home/<hash of abs>/postgres, creating home (0755, root) and the hashed
// folder (0700, owned by the postgres user), and notes there which folder it
// stands in for.
func (c *Cluster) relocate(abs, home, blocked string) error {
	home, err := filepath.Abs(home)
	if err != nil {
		return fmt.Errorf("database: cluster home: %w", err)
	}
	sum := sha256.Sum256([]byte(abs))
	slot := filepath.Join(home, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("database: create %s for the private PostgreSQL: %w", home, err)
	}
	if err := os.Mkdir(slot, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("database: create %s for the private PostgreSQL: %w", slot, err)
	}
	if err := c.own(slot); err != nil {
		return err
	}
	if blocked := c.unreachable(filepath.Join(slot, "postgres")); blocked != "" {
		return fmt.Errorf("database: the private PostgreSQL runs as the unprivileged user %q, which can enter neither the data folder nor %s (blocked at %s); set SIGNOFF_DATA to a folder it can reach or set DATABASE_URL", "postgres", home, blocked)
	}
	note := "This folder holds Signoff's private PostgreSQL cluster for\n" + abs +
		"\nwhich the postgres user cannot reach. Back it up with `signoff backup`.\n"
	if err := os.WriteFile(filepath.Join(slot, "FOR.txt"), []byte(note), 0o644); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	c.Dir = filepath.Join(slot, "postgres")
	c.Log.Info("the private PostgreSQL runs as the postgres user, which cannot enter "+blocked+"; keeping the cluster outside the data folder",
		"data", abs, "cluster", c.Dir)
	return nil
}

// FindServerBinaries returns the folder holding initdb and pg_ctl: from
// PATH, or the newest /usr/lib/postgresql/VERSION/bin.
func FindServerBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return pgVersion(matches[i]) > pgVersion(matches[j]) })
	for _, m := range matches {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "initdb")); err == nil {
			return filepath.Dir(m), nil
		}
	}
	return "", errors.New("database: no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin; install the server (Debian: apt-get install postgresql) or set DATABASE_URL")
}

func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// URL is the connection string for database name in this cluster.
func (c *Cluster) URL(name string) string {
	q := url.Values{"host": {c.SocketDir}, "sslmode": {"disable"}}
	return "postgres://" + superuser + "@/" + url.PathEscape(name) + "?" + q.Encode()
}

// Initialised reports whether initdb has run in Dir.
func (c *Cluster) Initialised() bool {
	_, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION"))
	return err == nil
}

// Init runs initdb when the folder holds no cluster yet.
func (c *Cluster) Init(ctx context.Context) error {
	if c.Initialised() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return fmt.Errorf("database: create cluster folder: %w", err)
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("database: create cluster folder: %w", err)
	}
	if err := c.own(c.Dir); err != nil {
		return err
	}
	if blocked := c.unreachable(c.Dir); blocked != "" {
		return fmt.Errorf("database: the private PostgreSQL runs as the unprivileged user %q, which cannot enter %s; set SIGNOFF_DATA to a folder it can reach (for example /var/lib/signoff) or set DATABASE_URL", "postgres", blocked)
	}
	c.Log.Info("creating private PostgreSQL cluster", "dir", c.Dir)
	out, err := c.run(ctx, "initdb", "-D", c.Dir, "-U", superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions")
	if err != nil {
		// Older initdb builds lack C.UTF-8; fall back to C.
		out2, err2 := c.run(ctx, "initdb", "-D", c.Dir, "-U", superuser, "--auth=trust",
			"--encoding=UTF8", "--locale=C", "--no-instructions")
		if err2 != nil {
			return fmt.Errorf("database: initdb: %w\n%s\n%s", err2, out, out2)
		}
	}
	return nil
}

// Running reports whether the cluster's server is up.
func (c *Cluster) Running(ctx context.Context) bool {
	if !c.Initialised() {
		return false
	}
	// pg_ctl status trusts any live process with the PID in
	// postmaster.pid; after a crash that PID may be reused by another
	// program, so check it is really a postgres process.
	data, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err != nil || !isPostgres(pid) {
		return false
	}
	_, err = c.run(ctx, "pg_ctl", "status", "-D", c.Dir)
	return err == nil
}

// Start starts the server unless it is already running; started says
// whether this call started it (and so whether the caller should stop it).
func (c *Cluster) Start(ctx context.Context) (started bool, err error) {
	if err := c.Init(ctx); err != nil {
		return false, err
	}
	if c.Running(ctx) {
		return false, nil
	}
	if c.SocketDir != c.Dir {
		if err := os.MkdirAll(c.SocketDir, 0o700); err != nil {
			return false, fmt.Errorf("database: socket folder: %w", err)
		}
		if err := c.own(c.SocketDir); err != nil {
			return false, err
		}
	}
	c.removeStaleLock(filepath.Join(c.Dir, "postmaster.pid"))
	c.removeStaleLock(filepath.Join(c.SocketDir, ".s.PGSQL.5432.lock"))

	opts := []string{
		"-k", quoteOpt(c.SocketDir),
		"-c", "listen_addresses=''",
		"-c", "unix_socket_permissions=0700",
	}
	names := make([]string, 0, len(c.Settings))
	for k := range c.Settings {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		opts = append(opts, "-c", k+"="+quoteOpt(c.Settings[k]))
	}
	c.Log.Info("starting private PostgreSQL", "dir", c.Dir)
	out, err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.Dir,
		"-l", filepath.Join(c.Dir, "server.log"), "-o", strings.Join(opts, " "))
	if err != nil {
		logTail, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
		if len(logTail) > 2000 {
			logTail = logTail[len(logTail)-2000:]
		}
		return false, fmt.Errorf("database: start PostgreSQL: %w\n%s\n%s", err, out, logTail)
	}
	return true, nil
}

// Stop shuts the server down (fast mode: sessions are ended, data is safe).
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.Running(ctx) {
		return nil
	}
	c.Log.Info("stopping private PostgreSQL", "dir", c.Dir)
	if out, err := c.run(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.Dir); err != nil {
		return fmt.Errorf("database: stop PostgreSQL: %w\n%s", err, out)
	}
	return nil
}

// EnsureDatabase creates database name when it does not exist.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	db, err := Open(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("database: look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := db.Pool.Exec(ctx, `CREATE DATABASE `+quoteIdent(name)); err != nil && !IsUniqueViolation(err, "") {
		return fmt.Errorf("database: create database %s: %w", name, err)
	}
	return nil
}

// removeStaleLock deletes a PostgreSQL lock file whose process is gone
// (or is no longer a postgres process: after a crash or a container
// restart the old PID can belong to anything).
func (c *Cluster) removeStaleLock(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && isPostgres(pid) {
		return
	}
	c.Log.Warn("removing stale PostgreSQL lock file", "path", path)
	_ = os.Remove(path)
}

// isPostgres reports whether pid is a live postgres process: a killed
// postmaster nobody has reaped yet is a zombie that still has its name.
func isPostgres(pid int) bool {
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return false
	}
	name := strings.TrimSpace(string(comm))
	if name != "postgres" && !strings.HasPrefix(name, "postgres") {
		return false
	}
	// /proc/PID/stat is "PID (comm) STATE ...": Z is a zombie, X dead.
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		if st := stat[i+2]; st == 'Z' || st == 'X' {
			return false
		}
	}
	return true
}

// run runs one of the server binaries, as the unprivileged user when we
// are root, in its own process group so a Ctrl-C meant for us does not
// reach the server before we stop it ourselves.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.runAs}
	cmd.Dir = c.Dir
	if _, err := os.Stat(c.Dir); err != nil {
		cmd.Dir = "/"
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start leaves the server running with our pipes; do not wait for them.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return out.Bytes(), err
}

// own hands path to the unprivileged user when we are root.
func (c *Cluster) own(path string) error {
	if c.runAs == nil {
		return nil
	}
	if err := os.Chown(path, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
		return fmt.Errorf("database: give %s to the postgres user: %w", path, err)
	}
	return os.Chmod(path, 0o700)
}

// unreachable returns the first parent folder of path that the
// unprivileged user cannot pass through, or "" when it can reach path (or
// when we are not root). Folders that do not exist yet are skipped: Init
// creates them open to pass through (0755).
func (c *Cluster) unreachable(path string) string {
	if c.runAs == nil {
		return ""
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			st, ok := fi.Sys().(*syscall.Stat_t)
			mode := fi.Mode().Perm()
			canPass := mode&0o001 != 0 ||
				(ok && st.Uid == c.runAs.Uid && mode&0o100 != 0) ||
				(ok && st.Gid == c.runAs.Gid && mode&0o010 != 0)
			if !canPass {
				return dir
			}
		}
		if dir == "/" || dir == "." {
			return ""
		}
	}
}

func quoteOpt(v string) string {
	if v == "" {
		return "''"
	}
	if strings.ContainsAny(v, " '\"\\") {
		return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
	}
	return v
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
