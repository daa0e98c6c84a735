#!/usr/bin/env bash
# Thin wrapper: (re)builds bin/sparkq and bin/sparkqd when missing or older
# than the sources, then runs the CLI with your arguments.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$root/bin"

stale() {
  [ -x "$bin/sparkq" ] && [ -x "$bin/sparkqd" ] || return 0
  [ -n "$(find "$root" -path "$root/bin" -prune -o \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -path '*/httpd/ui/*' \) -newer "$bin/sparkqd" -print -quit)" ]
}

if stale; then
  command -v go >/dev/null 2>&1 || { echo "sparkq.sh: Go is needed to build SparkQ (https://go.dev/dl/, or apt-get install golang)" >&2; exit 1; }
  version="$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo dev)"
  commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  flags="-X main.version=$version -X main.commit=$commit"
  echo "sparkq.sh: building bin/sparkq and bin/sparkqd ($version)" >&2
  # No cgo: a static binary starts ~1 ms faster, which matters for a CLI.
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "$flags" -o "$bin/sparkqd" ./cmd/sparkqd \
    && CGO_ENABLED=0 go build -trimpath -ldflags "$flags" -o "$bin/sparkq" ./cmd/sparkq)
fi
exec "$bin/sparkq" "$@"
