#!/usr/bin/env bash
# Installs what building the extension (and, with `--e2e`, its end-to-end test) needs.
#
# Idempotent and quick when done: each step checks first. A fresh CI machine has only
# Python, Node and npm, so this is the one place that brings in Debian's packages
# (chromium, ripgrep, libkrb5-dev) and the npm trees:
#   client-vscode/node_modules      the extension's build (typescript, esbuild, vsce, ...)
#   client-vscode/e2e/node_modules  code-server 4.100.3 and playwright-core
#
# Usage: scripts/setup-e2e.sh [--e2e]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E=0
[[ "${1:-}" == "--e2e" ]] && E2E=1

export npm_config_yes=true npm_config_fund=false npm_config_audit=false
export npm_config_update_notifier=false

log() { printf 'setup-e2e: %s\n' "$*" >&2; }

# One setup at a time: pytest and make may both call this.
exec 9>"${TMPDIR:-/tmp}/tether-vscode-setup.lock"
flock 9

as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
}

# npm ci only when the lock file changed since the last install (a stamp keeps its hash).
npm_ci() {
    local dir="$1" stamp="$1/node_modules/.tether-lock-hash" want
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    log "npm ci in $dir"
    (cd "$dir" && npm ci --foreground-scripts --no-audit --no-fund >&2)
    echo "$want" >"$stamp"
}

npm_ci "$HERE"

if ((E2E)); then
    # libkrb5-dev: code-server's kerberos module compiles against it.
    apt_install chromium ripgrep libkrb5-dev
    # @vscode/ripgrep downloads a binary at install time; this machine has no internet,
    # so hand it Debian's rg in the cache it looks in first.
    cache=/tmp/vscode-ripgrep-cache-1.15.11
    tarball="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
    if [[ ! -s "$tarball" ]]; then
        mkdir -p "$cache"
        tar czf "$tarball" -C "$(dirname "$(command -v rg)")" rg
    fi
    export npm_config_unsafe_perm=true
    npm_ci "$HERE/e2e"
fi
log "ready"
