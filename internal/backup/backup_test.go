package backup_test

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"signoff/internal/apperr"
	"signoff/internal/backup"
)

// archive writes a tar with the given manifest and entries (name → content).
func archive(t *testing.T, m backup.Manifest, entries [][2]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.backup")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	raw, _ := json.Marshal(m)
	for _, e := range append([][2]string{{"signoff-backup.json", string(raw)}}, entries...) {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o600, Size: int64(len(e[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func entry(path, content string) backup.Entry {
	sum := sha256.Sum256([]byte(content))
	return backup.Entry{Path: path, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
}

// TestReadChecksEverythingBeforeTrustingIt: an archive is read whole and
// refused, with a message saying why, when it is not a backup, names a
// file outside the data folder, has an entry the manifest does not list,
// or a byte differs from the manifest's hash; a good one is accepted.
func TestReadChecksEverythingBeforeTrustingIt(t *testing.T) {
	dump := "PGDMP..."
	good := backup.Manifest{Format: 1, Database: entry("database.pgdump", dump), Files: []backup.Entry{entry("session.key", "k")}}
	if m, err := backup.Read(archive(t, good, [][2]string{{"database.pgdump", dump}, {"data/session.key", "k"}})); err != nil || len(m.Files) != 1 {
		t.Fatalf("a good archive: %+v %v", m, err)
	}

	notBackup := filepath.Join(t.TempDir(), "notes.txt")
	_ = os.WriteFile(notBackup, []byte("hello"), 0o600)
	outside := good
	outside.Files = []backup.Entry{entry("../../etc/cron.d/x", "k")}
	for name, c := range map[string]struct {
		path string
		says string
	}{
		"not a backup":     {notBackup, "is not a Signoff backup"},
		"outside":          {archive(t, outside, [][2]string{{"database.pgdump", dump}, {"data/../../etc/cron.d/x", "k"}}), "outside the data folder"},
		"unlisted entry":   {archive(t, good, [][2]string{{"database.pgdump", dump}, {"data/session.key", "k"}, {"data/extra", "x"}}), "unexpected entry"},
		"changed byte":     {archive(t, good, [][2]string{{"database.pgdump", "PGDMP!.."}, {"data/session.key", "k"}}), "does not match the SHA-256"},
		"missing entry":    {archive(t, good, [][2]string{{"database.pgdump", dump}}), "incomplete"},
		"newer format":     {archive(t, backup.Manifest{Format: 99}, nil), "newer Signoff"},
		"missing manifest": {archive(t, backup.Manifest{}, nil), "is not a Signoff backup"},
	} {
		_, err := backup.Read(c.path)
		if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v (want an invalid-input error saying %q)", name, err, c.says)
		}
	}
}
