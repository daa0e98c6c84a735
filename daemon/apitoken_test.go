package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/token"
)

// instanceWith writes a sparkq.yml whose server section is server (YAML
// lines indented by two spaces) plus a free port.
func instanceWith(t *testing.T, server string) (instance, int) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	path := filepath.Join(dir, "sparkq.yml")
	yml := fmt.Sprintf("server:\n  port: %d\n%sdatabase:\n  path: data/sparkq.db\n", port, server)
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return instance{cfgPath: path, cfg: cfg}, port
}

// runToFailure runs sparkqd and expects it to refuse to start.
func runToFailure(t *testing.T, in instance) string {
	t.Helper()
	out, err := exec.Command(sparkqd, "run", "--quiet", "--config", in.cfgPath).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("sparkqd: want exit 1, got %v\n%s", err, out)
	}
	return string(out)
}

func TestNonLoopbackNeedsToken(t *testing.T) {
	in, _ := instanceWith(t, "  host: 0.0.0.0\n")
	out := runToFailure(t, in)
	for _, want := range []string{"refusing to listen on 0.0.0.0 without authentication", "server.api_token_file"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	if _, err := os.Stat(in.cfg.DBPath()); err == nil {
		t.Error("the database was created by a daemon that refused to start")
	}
}

func TestTokenFileProblemsStopTheDaemon(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open-token")
	os.WriteFile(open, []byte(strings.Repeat("a", 64)), 0o600)
	os.Chmod(open, 0o644)
	for name, file := range map[string]string{
		"missing":        filepath.Join(dir, "nope"),
		"world readable": open,
	} {
		t.Run(name, func(t *testing.T) {
			in, _ := instanceWith(t, fmt.Sprintf("  api_token_file: %s\n", file))
			if out := runToFailure(t, in); !strings.Contains(out, "server.api_token_file: API token file") {
				t.Errorf("output %q does not name the token file problem", out)
			}
		})
	}
}

// With a token the daemon may bind every address; TCP requests then need
// the token (except /health), the Host check stays, the socket needs none.
func TestTokenOnTCP(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "api-token")
	tok, err := token.Generate(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	in, port := instanceWith(t, fmt.Sprintf("  host: 0.0.0.0\n  api_token_file: %s\n  allowed_hosts: [sparkq.lan]\n", tokenFile))
	_, c := in.start(t)
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("control socket: %v", err)
	}

	get := func(path, host, auth string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + " " + string(body)
	}
	tests := []struct {
		name, path, host, auth string
		status                 int
	}{
		{"no token", "/api/sessions", "", "", 401},
		{"wrong token", "/api/sessions", "", strings.Repeat("0", 64), 401},
		{"token", "/api/sessions", "", tok, 200},
		{"health is public", "/health", "", "", 200},
		{"configured host name", "/api/sessions", fmt.Sprintf("sparkq.lan:%d", port), tok, 200},
		{"foreign host, even with the token", "/api/sessions", "evil.example", tok, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := get(tc.path, tc.host, tc.auth); status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			} else if status == 401 && !strings.HasPrefix(body, "Bearer ") {
				t.Errorf("401 without a Bearer challenge: %s", body)
			}
		})
	}
}
