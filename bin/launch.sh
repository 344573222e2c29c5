# Shared by bin/ztna and bin/ztna-server (sourced, not run): runs dist/bundle/$ZTNA_ENTRY.js
# on the project's pinned Node 24 (node_modules/node, installed by `npm ci`), falling back
# to the `node` on PATH (which the entry refuses if older than 24). Rebuilds the bundle
# when it is missing or any source file is newer, so edits take effect at once.
root=$(CDPATH= cd -- "$(dirname -- "$self")/.." && pwd -P) || exit 2
node="$root/node_modules/node/bin/node"
[ -x "$node" ] || node=node
bundle="$root/dist/bundle/$ZTNA_ENTRY.js"
if [ ! -f "$bundle" ] || [ -n "$(find "$root/src" "$root/collectors" "$root/package.json" -newer "$bundle" \( -name '*.ts' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name package.json \) 2>/dev/null | head -n 1)" ]; then
  "$node" "$root/scripts/build.mjs" >&2 || { echo "$ZTNA_ENTRY: could not build the bundle (run \`npm ci\` first)" >&2; exit 2; }
fi
# Node's on-disk compile cache (beside the bundle it caches) saves re-parsing on every start.
NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/dist/.compile-cache}" exec "$node" --enable-source-maps "$bundle" "$@"
