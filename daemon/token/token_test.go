package token_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/daemon/token"
)

func TestGenerateThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", "api-token")
	tok, err := token.Generate(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("token %q: want 64 lowercase hex characters", tok)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %04o, want 0600", info.Mode().Perm())
	}
	got, err := token.Load(path)
	if err != nil || got != tok {
		t.Fatalf("Load = %q, %v; want %q", got, err, tok)
	}

	other, err := token.Generate(filepath.Join(t.TempDir(), "t"))
	if err != nil || other == tok {
		t.Errorf("second token %q (err %v) repeats the first", other, err)
	}
	// An existing token is never replaced.
	if _, err := token.Generate(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Generate over an existing file: err %v, want fs.ErrExist", err)
	}
	if again, _ := token.Load(path); again != tok {
		t.Errorf("token changed to %q", again)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask may have narrowed it
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("a", 40)
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "does not exist"},
		{"empty", write("empty", "\n", 0o600), "too short"},
		{"short", write("short", "abc123\n", 0o600), "too short"},
		{"inner space", write("space", "abcd efgh"+long+"\n", 0o600), "may only contain"},
		{"non-ASCII", write("utf8", long+"é", 0o600), "may only contain"},
		{"huge", write("huge", strings.Repeat("a", 5000), 0o600), "larger than"},
		{"folder", dir, "not a regular file"},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests,
			struct{ name, path, want string }{"world readable", write("open", long, 0o644), "accessible by other users (mode 0644)"},
			struct{ name, path, want string }{"group writable", write("grp", long, 0o620), "chmod 600"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := token.Load(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %q, %v; want an error containing %q", tok, err, tc.want)
			}
		})
	}

	// Surrounding whitespace (an editor's newline) is not part of the token.
	p := write("ok", "  "+long+"\r\n", 0o600)
	if tok, err := token.Load(p); err != nil || tok != long {
		t.Errorf("Load = %q, %v; want %q", tok, err, long)
	}
}
