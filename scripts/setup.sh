#!/usr/bin/env bash
# One-time (and idempotent) setup for a fresh machine: the Debian packages the
# test cluster and read-back need, then the npm workspaces. The Debian packages
# come first because installing node-rdkafka builds librdkafka 2.12 against
# whatever codecs and TLS libraries are present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(librdkafka-dev kcat gcc g++ make python3 libssl-dev zlib1g-dev libzstd-dev liblz4-dev lz4 zstd gzip openssl stunnel4 gsasl sasl2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# npm ci only when the lock file changed since the last successful install.
stamp=node_modules/.tributary-setup
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # Not `npm ci`: see docs/dependencies.md (the registry serves no off-platform
  # optional packages, so the lock file cannot list them and npm ci refuses it).
  npm install --no-save --no-audit --no-fund
  echo "$want" > "$stamp"
fi
echo "setup: done"
