#!/usr/bin/env bash
# End-to-end test of joint-review-lsp in Helix 25.01, with editors/helix/languages.toml as the
# user's config. Helix runs in a detached tmux session; the test types keys and reads the screen.
# Usage: e2e.sh REPO HX... (HX: the command that runs hx, e.g. trixie's loader and the binary)
# Needs joint-review-lsp on PATH and HELIX_RUNTIME set. Each step is a named check.
set -uo pipefail
repo="$1"; shift
hx=("$@")
work="$(mktemp -d)"
sock="jr-hx-$$"
passed=0; failed=0
cleanup() { tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

pass() { echo "PASS helix $1"; passed=$((passed + 1)); }
fail() { echo "FAIL helix $1: $2"; failed=$((failed + 1)); }

# The user's config: our languages.toml as is, and diagnostics shown as text on screen.
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data" \
  XDG_STATE_HOME="$work/state" NO_COLOR=1
mkdir -p "$XDG_CONFIG_HOME/helix" "$work/project/.git"
cp "$repo/editors/helix/languages.toml" "$XDG_CONFIG_HOME/helix/languages.toml"
cat > "$XDG_CONFIG_HOME/helix/config.toml" <<'TOML'
[editor]
end-of-line-diagnostics = "hint"

[editor.inline-diagnostics]
cursor-line = "hint"
other-lines = "hint"
TOML
cp "$repo/editors/test/lanternfish-joint-review.md" "$work/project/"

# 1. `hx --health markdown` exits 0 whatever it finds: read its text.
health="$("${hx[@]}" --health markdown 2>&1 | sed 's/\x1b\[[0-9;]*m//g')"
if grep -q "Error parsing" <<<"$health"; then
  fail "health: our languages.toml is read" "$(grep "Error parsing" <<<"$health")"
elif grep -Eq "✓ joint-review-lsp: .*/joint-review-lsp" <<<"$health"; then
  pass "health: hx --health markdown finds joint-review-lsp"
else
  fail "health: hx --health markdown finds joint-review-lsp" "$(printf '\n%s' "$health")"
fi

# Waits until the screen shows a fixed string (or times out); the screen is in $screen.
screen=""
wait_for() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    screen="$(tmux -L "$sock" capture-pane -p -t hx)"
    grep -qF -- "$1" <<<"$screen" && return 0
    sleep 0.2
  done
  return 1
}
keys() { tmux -L "$sock" send-keys -t hx "$@"; sleep 0.3; }

tmux -L "$sock" new-session -d -s hx -x 120 -y 45 -c "$work/project" \
  "$(printf '%q ' "${hx[@]}") lanternfish-joint-review.md"
if ! wait_for "lanternfish-joint-review.md"; then
  fail "helix starts" "$(printf '\n%s' "$screen")"
  echo "helix: $passed passed, $failed failed"
  exit 1
fi

# 2. The diagnostic shows on the Security Analysis heading, where the section belongs.
line=$(grep -n '^## Security Analysis' "$work/project/lanternfish-joint-review.md" | cut -d: -f1)
keys "${line}G"
if wait_for "The template's section 'Threat Model' is missing; it belongs after 'Security Analysis'."; then
  pass "diagnostic: missing Threat Model shows on screen"
else
  fail "diagnostic: missing Threat Model shows on screen" "$(printf '\n%s' "$screen")"
fi

# 3. Hover (Space k) on a heading shows the template's guidance and its attribution. The
#    heading goes to the top of the view first (z t) so the popup has room below it.
line=$(grep -n '^### Attacker Motivations' "$work/project/lanternfish-joint-review.md" | cut -d: -f1)
keys "${line}G"
keys z t
keys Space k
if wait_for "likely goals of an attacker" && grep -qF "Attacker Motivations — joint review template" <<<"$screen" &&
  grep -qF "CC BY 4.0" <<<"$screen"; then
  pass "hover: template guidance on a heading"
else
  fail "hover: template guidance on a heading" "$(printf '\n%s' "$screen")"
fi
printf '%s\n' "$screen" > "${HELIX_SCREEN_OUT:-/dev/null}"
keys Escape
keys : q ! Enter

echo "helix: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
