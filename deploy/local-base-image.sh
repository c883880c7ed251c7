#!/usr/bin/env bash
# Builds the Node 24 base image deploy/Dockerfile starts from, without an image registry: a Debian bookworm root
# filesystem from the Debian archive (debootstrap), the official node binary from the npm registry's `node`
# package and npm itself, imported into podman with node:24-slim's layout (node and npm in /usr/local/bin, a
# `node` user with uid 1000). Then: podman build --build-arg NODE_IMAGE=<tag> -f deploy/Dockerfile .
# Usage: deploy/local-base-image.sh [TAG]   (default localhost/ignis-node:24; needs root, debootstrap, podman)
set -euo pipefail
tag="${1:-localhost/ignis-node:24}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" http://deb.debian.org/debian >/dev/null
npm install --prefix "$work/node" --no-audit --no-fund --no-package-lock --silent node@24 npm@11
root="$work/rootfs"
install -m 0755 "$work/node/node_modules/node/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$work/node/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# This machine's own CAs (a TLS-inspecting proxy in front of the registries, say) are trusted in the image too,
# so `npm ci` and apt inside the build reach what the host reaches.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

tar -C "$root" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' - "$tag" >/dev/null
limits=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
echo "$tag: node $(podman run --rm "${limits[@]}" "$tag" node --version), npm $(podman run --rm "${limits[@]}" "$tag" npm --version)"
