#!/usr/bin/env bash
# Builds deploy/Dockerfile with podman from a local base image (deploy/local-base-image.sh: no image registry
# needed), runs the image, and checks what a deployment relies on: /healthz answers, the web app and the OpenAPI
# document are served, and the server runs its prebuilt bundle rather than compiling TypeScript at start.
# Usage: deploy/check-image.sh   (run by .ci/run; needs root, podman, runc, debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
base=localhost/ignis-node:24
image=localhost/ignis-server:check
limits=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

podman image exists "$base" || deploy/local-base-image.sh "$base"
podman build --format docker "${limits[@]}" --build-arg NODE_IMAGE="$base" --ignorefile deploy/Dockerfile.dockerignore \
  -f deploy/Dockerfile -t "$image" . >/dev/null

podman run --rm "${limits[@]}" --entrypoint node "$image" --input-type=module -e '
  const { freshBundle } = await import("/app/apps/server/bin/bundle-freshness.js");
  const fresh = freshBundle();
  if (!fresh.bundle) { console.error(`the image would compile the sources at start: ${fresh.reason}`); process.exit(1); }'

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# Without systemd, podman cannot set up the timer of the image's HEALTHCHECK and says so on every start and removal
# (the check itself still runs on request, below): those lines are left out.
# (Through a file, not a pipe: conmon, which outlives `podman run`, keeps podman's stderr open.)
errors="$(mktemp)"
quiet_systemd() { grep -v 'unable to get systemd connection' "$errors" >&2 || true; }
container="$(podman run -d "${limits[@]}" -p "127.0.0.1:${port}:8080" "$image" 2>"$errors")" || { quiet_systemd; exit 1; }
quiet_systemd
trap 'podman rm -f "$container" >/dev/null 2>"$errors"; quiet_systemd; rm -f "$errors"' EXIT
url="http://127.0.0.1:${port}"
for _ in $(seq 1 120); do
  curl -fs "$url/healthz" >/dev/null && break
  sleep 1
done
curl -fsS "$url/healthz" >/dev/null || { podman logs "$container" | tail -n 40; echo "the image never answered /healthz" >&2; exit 1; }
podman healthcheck run "$container" 2>"$errors" || { quiet_systemd; echo "the image's HEALTHCHECK fails while /healthz answers" >&2; exit 1; }
quiet_systemd
curl -fsS "$url/" | grep -q '<div id="root">' || { echo "the image does not serve the web app at /" >&2; exit 1; }
curl -fsS "$url/openapi.json" | grep -q '"openapi"' || { echo "the image does not serve /openapi.json" >&2; exit 1; }
echo "deploy/Dockerfile: built from $base, healthy by its own HEALTHCHECK, serves /healthz, / and /openapi.json from its bundle"
