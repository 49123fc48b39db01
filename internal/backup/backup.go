// Package backup writes one archive of everything a Signoff installation
// keeps (the database, dumped by pg_dump within one snapshot, and the
// files of the data folder: session.key, keys and anything else kept
// there) and restores it into an empty data folder and an empty database.
//
// The archive is a tar file:
//
//	signoff-backup.json   the manifest: when, which version, every entry's size and SHA-256
//	database.pgdump       pg_dump's custom format
//	data/...              the data folder's files (not the private cluster's folder)
//
// Restore reads the whole archive and checks every hash before it changes
// anything, restores the database in one transaction, then writes the files.
package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
)

// Format is the archive layout's version, written in the manifest.
const Format = 1

const (
	manifestName = "signoff-backup.json"
	dumpName     = "database.pgdump"
	dataPrefix   = "data/"
	// maxManifest bounds the manifest read back (it lists file names and hashes).
	maxManifest = 4 << 20
)

// Place says where the installation's things are.
type Place struct {
	// URL is the database's connection URL (libpq form, as pg_dump takes it).
	URL string
	// BinDir holds pg_dump and pg_restore: the same PostgreSQL as the cluster.
	BinDir string
	// DataDir is the data folder.
	DataDir string
	// Skip names entries directly inside DataDir that are not backed up as
	// files (the private cluster's folder, which the dump already covers).
	Skip []string
}

// Manifest describes an archive.
type Manifest struct {
	Format         int       `json:"format"`
	Created        time.Time `json:"created"`
	SignoffVersion string    `json:"signoff_version"`
	PgDump         string    `json:"pg_dump"` // pg_dump --version
	Database       Entry     `json:"database"`
	Files          []Entry   `json:"files"`
}

// Entry is one file in the archive.
type Entry struct {
	Path   string `json:"path"` // relative to the data folder for files
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   uint32 `json:"mode,omitempty"`
}

// Options are the details of a backup that do not come from the Place.
type Options struct {
	Version string           // Signoff's version, recorded in the manifest
	Now     func() time.Time // nil: time.Now
}

// Write dumps the database and copies the data folder's files into one
// archive at dest (written beside it under a temporary name, then renamed,
// so dest is either the old file or a whole new backup; mode 0600: it
// holds the session key).
func Write(ctx context.Context, p Place, dest string, o Options) (Manifest, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	m := Manifest{Format: Format, Created: now().UTC(), SignoffVersion: o.Version}
	absDest, err := filepath.Abs(dest)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if absData, err := filepath.Abs(p.DataDir); err == nil {
		if rel, err := filepath.Rel(absData, absDest); err == nil && filepath.IsLocal(rel) {
			return m, apperr.New(apperr.Invalid, "%s", "write the backup outside the data folder "+p.DataDir+" (it would hold its own earlier copies)")
		}
	}
	dir := filepath.Dir(absDest)
	work, err := os.MkdirTemp(dir, ".signoff-backup-")
	if err != nil {
		return m, fmt.Errorf("backup: a temporary folder beside %s: %w", dest, err)
	}
	defer os.RemoveAll(work)

	ver, err := output(ctx, filepath.Join(p.BinDir, "pg_dump"), "--version")
	if err != nil {
		return m, fmt.Errorf("backup: pg_dump: %w", err)
	}
	m.PgDump = strings.TrimSpace(ver)
	dump := filepath.Join(work, dumpName)
	// One snapshot: pg_dump reads every table in a single repeatable-read transaction.
	if out, err := output(ctx, filepath.Join(p.BinDir, "pg_dump"), "--format=custom", "--file="+dump, "--dbname="+p.URL); err != nil {
		return m, fmt.Errorf("backup: pg_dump: %w\n%s", err, out)
	}
	if m.Database, err = entryOf(dump, dumpName); err != nil {
		return m, err
	}
	files, err := dataFiles(p)
	if err != nil {
		return m, err
	}
	for _, rel := range files {
		e, err := entryOf(filepath.Join(p.DataDir, rel), filepath.ToSlash(rel))
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, e)
	}

	tmp := filepath.Join(work, "archive.tar")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	manifest, _ := json.MarshalIndent(m, "", "  ")
	if err := addBytes(tw, manifestName, manifest, m.Created); err != nil {
		return m, err
	}
	if err := addFile(tw, dumpName, dump, m.Database, m.Created); err != nil {
		return m, err
	}
	for _, e := range m.Files {
		if err := addFile(tw, dataPrefix+e.Path, filepath.Join(p.DataDir, filepath.FromSlash(e.Path)), e, m.Created); err != nil {
			return m, err
		}
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, absDest); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// dataFiles lists the regular files of the data folder (relative paths,
// sorted), leaving out p.Skip, sockets, lock files and symbolic links.
func dataFiles(p Place) ([]string, error) {
	var out []string
	err := filepath.WalkDir(p.DataDir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && full == p.DataDir {
				return filepath.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(p.DataDir, full)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".signoff-") { // our own work in progress
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.Contains(rel, string(filepath.Separator)) && slices.Contains(p.Skip, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backup: read the data folder: %w", err)
	}
	return out, nil
}

func entryOf(full, name string) (Entry, error) {
	f, err := os.Open(full)
	if err != nil {
		return Entry{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Entry{}, fmt.Errorf("backup: read %s: %w", full, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return Entry{}, fmt.Errorf("backup: %w", err)
	}
	return Entry{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Mode: uint32(fi.Mode().Perm())}, nil
}

func addBytes(tw *tar.Writer, name string, data []byte, at time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: at, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err := tw.Write(data)
	return err
}

// addFile copies exactly e.Size bytes of full (a file that changes while
// it is copied fails the hash check at restore, rather than passing silently).
func addFile(tw *tar.Writer, name, full string, e Entry, at time.Time) error {
	f, err := os.Open(full)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	mode := int64(e.Mode)
	if mode == 0 {
		mode = 0o600
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: e.Size, ModTime: at, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.CopyN(tw, f, e.Size); err != nil {
		return fmt.Errorf("backup: copy %s: %w", full, err)
	}
	return nil
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Read checks an archive whole (every entry against the manifest's size
// and SHA-256) and returns its manifest. Nothing is written.
func Read(archive string) (Manifest, error) {
	var m Manifest
	err := walk(archive, func(m0 Manifest, e Entry, name string, r io.Reader) error {
		m = m0
		_, err := io.Copy(io.Discard, r)
		return err
	})
	return m, err
}

// walk reads the archive: the manifest first, then calls fn for the dump
// and for each data file, with a reader whose content is checked against
// the manifest once read to its end.
func walk(archive string, fn func(m Manifest, e Entry, name string, r io.Reader) error) error {
	f, err := os.Open(archive)
	if err != nil {
		return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("cannot open the backup %s: %v", archive, err))
	}
	defer f.Close()
	tr := tar.NewReader(f)
	notBackup := apperr.New(apperr.Invalid, "%s", archive+" is not a Signoff backup (written by signoff backup)")
	h, err := tr.Next()
	if err != nil || h.Name != manifestName || h.Size > maxManifest {
		return notBackup
	}
	raw, err := io.ReadAll(io.LimitReader(tr, maxManifest))
	if err != nil {
		return notBackup
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.Format == 0 {
		return notBackup
	}
	if m.Format > Format {
		return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s was written by a newer Signoff (backup format %d; this one reads %d): restore it with that version", archive, m.Format, Format))
	}
	want := map[string]Entry{dumpName: m.Database}
	for _, e := range m.Files {
		if !filepath.IsLocal(filepath.FromSlash(e.Path)) || path.Clean(e.Path) != e.Path {
			return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s names a file outside the data folder (%q): refused", archive, e.Path))
		}
		want[dataPrefix+e.Path] = e
	}
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s is damaged: %v", archive, err))
		}
		e, ok := want[h.Name]
		if !ok || seen[h.Name] || h.Typeflag != tar.TypeReg || h.Size != e.Size {
			return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s is damaged: unexpected entry %q", archive, h.Name))
		}
		seen[h.Name] = true
		hash := sha256.New()
		r := io.TeeReader(io.LimitReader(tr, e.Size), hash)
		if err := fn(m, e, h.Name, r); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s is damaged: %v", archive, err))
		}
		if hex.EncodeToString(hash.Sum(nil)) != e.SHA256 {
			return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s is damaged: %s does not match the SHA-256 its manifest records", archive, h.Name))
		}
	}
	if len(seen) != len(want) {
		return apperr.New(apperr.Invalid, "%s", fmt.Sprintf("%s is incomplete: %d of %d entries", archive, len(seen), len(want)))
	}
	return nil
}

// Restore brings an archive back: the database into p.URL, which must hold
// no tables, and the files into p.DataDir, which must hold nothing but the
// entries in p.Skip (the private cluster's folder). It refuses, changing
// nothing, when either is not empty or the archive is damaged.
func Restore(ctx context.Context, p Place, archive string) (Manifest, error) {
	m, err := Read(archive)
	if err != nil {
		return m, err
	}
	if err := dataFolderEmpty(p); err != nil {
		return m, err
	}
	if err := databaseEmpty(ctx, p.URL); err != nil {
		return m, err
	}
	if err := os.MkdirAll(p.DataDir, 0o755); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	work, err := os.MkdirTemp(p.DataDir, ".signoff-restore-")
	if err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(work)
	// Everything out of the archive into the work folder (hashes checked),
	// then the database in one transaction, then the files into place.
	err = walk(archive, func(_ Manifest, e Entry, name string, r io.Reader) error {
		target := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	if err != nil {
		return m, err
	}
	if out, err := output(ctx, filepath.Join(p.BinDir, "pg_restore"), "--exit-on-error", "--single-transaction",
		"--no-owner", "--no-acl", "--dbname="+p.URL, filepath.Join(work, dumpName)); err != nil {
		return m, fmt.Errorf("restore: pg_restore (nothing was restored): %w\n%s", err, out)
	}
	for _, e := range m.Files {
		src := filepath.Join(work, filepath.FromSlash(dataPrefix+e.Path))
		dst := filepath.Join(p.DataDir, filepath.FromSlash(e.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return m, fmt.Errorf("restore: the database is restored, but not every file: %w", err)
		}
		mode := fs.FileMode(e.Mode)
		if mode == 0 {
			mode = 0o600
		}
		if err := os.Chmod(src, mode); err != nil {
			return m, fmt.Errorf("restore: the database is restored, but not every file: %w", err)
		}
		if err := os.Rename(src, dst); err != nil {
			return m, fmt.Errorf("restore: the database is restored, but not every file: %w", err)
		}
	}
	return m, nil
}

func dataFolderEmpty(p Place) error {
	entries, err := os.ReadDir(p.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: read the data folder: %w", err)
	}
	var found []string
	for _, e := range entries {
		if !slices.Contains(p.Skip, e.Name()) {
			found = append(found, e.Name())
		}
	}
	if len(found) > 0 {
		if len(found) > 5 {
			found = append(found[:5], "…")
		}
		return apperr.New(apperr.Conflict, "%s", fmt.Sprintf("the data folder %s is not empty (it holds %s): restore only into an empty data folder, so nothing is overwritten", p.DataDir, strings.Join(found, ", ")))
	}
	return nil
}

func databaseEmpty(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("restore: connect to the database: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'`).Scan(&n); err != nil {
		return fmt.Errorf("restore: look at the database: %w", err)
	}
	if n > 0 {
		return apperr.New(apperr.Conflict, "%s", fmt.Sprintf("the database is not empty (it has %d tables, views or sequences): restore only into an empty database, so nothing is overwritten", n))
	}
	return nil
}
