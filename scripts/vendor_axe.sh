#!/usr/bin/env bash
# Rebuilds tests/e2e/assets/axe-core-<version>/ from npm at the pinned version: the browser tests
# run axe-core on every page they visit (tests/support/pagecheck.py). A test asset: the portal
# never serves it. --ignore-scripts: no package's install script runs on this machine.
set -euo pipefail
version="${1:?usage: vendor_axe.sh VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent --ignore-scripts "axe-core@$version" >/dev/null
tar -xzf "axe-core-$version.tgz"
out="$root/tests/e2e/assets/axe-core-$version"
rm -rf "$root"/tests/e2e/assets/axe-core-*
mkdir -p "$out"
cp package/axe.min.js package/LICENSE "$out/"
echo "axe-core $version from npm (npm pack axe-core@$version), by 'make vendor-axe'." >"$out/README.txt"
sha256sum "$out/axe.min.js"
