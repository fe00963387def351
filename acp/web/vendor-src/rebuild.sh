#!/usr/bin/env bash
# Rebuild acp/web/static/vendor from the locked npm packages: one command, no bundler.
#   acp/web/vendor-src/rebuild.sh
# Copies the upstream minified builds and their licences; bump versions in package.json,
# run `npm install` here to refresh package-lock.json, then run this.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../static/vendor"
cd "$here"
npm ci --silent --no-audit --no-fund
mkdir -p "$out"
cp node_modules/marked/marked.min.js "$out/marked.min.js"
cp node_modules/marked/LICENSE.md "$out/marked.LICENSE.md"
cp node_modules/dompurify/dist/purify.min.js "$out/purify.min.js"
cp node_modules/dompurify/LICENSE "$out/dompurify.LICENSE"
cp node_modules/@highlightjs/cdn-assets/highlight.min.js "$out/highlight.min.js"
cp node_modules/@highlightjs/cdn-assets/styles/github-dark.min.css "$out/highlight-github-dark.min.css"
cp node_modules/@highlightjs/cdn-assets/LICENSE "$out/highlight.LICENSE"
# Versions, for the record (docs/web.md points here).
node -e 'const fs=require("fs"); for (const p of ["marked","dompurify","@highlightjs/cdn-assets"]) console.log(p, JSON.parse(fs.readFileSync("node_modules/"+p+"/package.json")).version)' > "$out/VERSIONS.txt"
sed -i 's/[[:space:]]*\/\/# sourceMappingURL=.*$//' "$out"/*.js
echo "vendored into $out:" >&2
cat "$out/VERSIONS.txt" >&2
