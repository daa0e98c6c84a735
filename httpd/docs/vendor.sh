#!/usr/bin/env bash
# Re-vendors Swagger UI for GET /docs from the npm registry package
# swagger-ui-dist, keeping only the files the page loads plus the licences.
# Usage: httpd/docs/vendor.sh [version]   (default: the pinned version below)
# It records the version in swagger-ui/VERSION; run the httpd tests after.
set -euo pipefail
version="${1:-5.35.0}"
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/swagger-ui"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tar -xzf "$tmp/swagger-ui-dist-$version.tgz" -C "$tmp"

rm -rf "$out"
mkdir -p "$out"
for f in swagger-ui.css swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt \
         favicon-32x32.png favicon-16x16.png LICENSE NOTICE; do
  cp "$tmp/package/$f" "$out/$f"
done
echo "$version" > "$out/VERSION"
echo "vendored swagger-ui-dist@$version into $out"
