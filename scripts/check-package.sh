#!/usr/bin/env bash
# Issue 18: the package as users get it. Packs the tarball, installs it globally into a
# temporary prefix (not the work tree), and runs `rootca` from another folder.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pack" "$tmp/prefix" "$tmp/elsewhere"

(cd "$repo" && npm pack --silent --pack-destination "$tmp/pack" >/dev/null)
tarball="$(ls "$tmp"/pack/rootca-*.tgz)"
npm install --global --prefix "$tmp/prefix" --no-audit --no-fund --loglevel=error "$tarball"

cd "$tmp/elsewhere"
rootca="$tmp/prefix/bin/rootca"
expected="$(node -p "require('$repo/package.json').version")"
version="$("$rootca" --version)"
[ "$version" = "$expected" ] || { echo "rootca --version printed '$version', expected '$expected'" >&2; exit 1; }
"$rootca" --help | grep -q '^Keys and ceremonies:$' || { echo 'rootca --help lacks its groups' >&2; exit 1; }
"$rootca" --home "$tmp/home" init --name packaged >/dev/null
"$rootca" --home "$tmp/home" ca list | grep -q '(no CAs)' || { echo 'rootca ca list failed on a new installation' >&2; exit 1; }
"$rootca" completion bash | grep -q 'complete -o default -F _rootca rootca'
echo "package OK: $(basename "$tarball") installs with npm install -g and rootca $version runs from another folder"
