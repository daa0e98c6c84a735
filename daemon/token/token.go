// Package token creates and reads the API token file (server.api_token_file).
// When the daemon has a token, every TCP request must carry it as
// "Authorization: Bearer <token>"; the Unix control socket needs none.
//
// It imports nothing from the server so the CLI (`sparkq setup`) can link it.
package token

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// randomBytes is the token's entropy; the file holds it hex-encoded.
const randomBytes = 32

// tokenChars are RFC 6750's b64token characters: what travels unquoted
// in an Authorization header (hex and base64 tokens fit).
const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

// maxFileBytes bounds what Load reads.
const maxFileBytes = 4096

// MinLength is the shortest token Load accepts, so a hand-written token
// cannot be trivially guessed.
const MinLength = 32

// Generate writes a new random token (32 bytes, hex) to a new file at path
// with mode 0600, creating its folder (0700) if needed, and returns it. It
// never replaces an existing file: errors.Is(err, fs.ErrExist) tells the
// caller to Load it instead (or to delete it first to rotate the token).
func Generate(path string) (string, error) {
	buf := make([]byte, randomBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate API token: %w", err)
	}
	tok := hex.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create API token folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create API token file: %w", err)
	}
	_, werr := f.WriteString(tok + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path) // never leave a truncated token behind
		return "", fmt.Errorf("write API token file %s: %w", path, werr)
	}
	return tok, nil
}

// Load reads the token at path. Surrounding whitespace is ignored. It
// refuses a file other users can read or write (as ssh does with keys), an
// empty or short token, and characters that cannot travel in an HTTP header.
func Load(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("API token file %s does not exist (create one with `sparkq setup`): %w", path, err)
		}
		return "", fmt.Errorf("open API token file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat API token file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("API token file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return "", fmt.Errorf("API token file %s is accessible by other users (mode %04o); run chmod 600 %s", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("read API token file: %w", err)
	}
	if len(raw) > maxFileBytes {
		return "", fmt.Errorf("API token file %s is larger than %d bytes; it should hold only the token", path, maxFileBytes)
	}
	tok := strings.TrimSpace(string(raw))
	if len(tok) < MinLength {
		return "", fmt.Errorf("API token in %s is too short: want at least %d characters, got %d", path, MinLength, len(tok))
	}
	if strings.TrimLeft(tok, tokenChars) != "" {
		return "", fmt.Errorf("API token in %s may only contain letters, digits and - . _ ~ + / =", path)
	}
	return tok, nil
}
