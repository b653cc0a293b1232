#!/usr/bin/env bash
# Packages the extension as a .vsix with the given server binary bundled (default: the
# workspace's release build), stripped of its debug info. Needs `npm ci` done.
# Usage: scripts/package.sh [SERVER_BINARY] [OUT.vsix]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-$here/../../target/release/joint-review-lsp}"
out="${2:-$here/joint-review-lsp.vsix}"
[ -x "$binary" ] || { echo "no server binary at $binary (cargo build --release)" >&2; exit 1; }
cd "$here"
rm -rf server
mkdir -p server
cp "$binary" server/joint-review-lsp
strip server/joint-review-lsp 2>/dev/null || true
chmod 755 server/joint-review-lsp
# vscode:prepublish compiles the TypeScript and copies the templates.
npx vsce package --skip-license --allow-missing-repository --target linux-x64 --out "$out"
