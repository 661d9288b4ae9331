#!/usr/bin/env bash
# Copies Swagger UI's browser files from the swagger-ui-dist release pinned in tests/browser/package.json
# into functions/meta/swagger-ui (the three large ones gzip-compressed: the meta function embeds them
# and serves them compressed). Run after changing that version; a test checks the copies match.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=tests/browser/node_modules/swagger-ui-dist
out=functions/meta/swagger-ui
[ -d "$dist" ] || npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
for file in index.html index.css favicon-16x16.png favicon-32x32.png LICENSE; do
  cp "$dist/$file" "$out/$file"
done
for file in swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js; do
  gzip -9 -n -c "$dist/$file" > "$out/$file.gz"
done
ls -l "$out"
