#!/usr/bin/env bash
# Rebuilds static/vendor/azure-communication-calling-<version>/ from the pinned lock file.
# The SDK's UMD build is not self-contained (it expects @azure/logger and
# @azure/communication-common as globals), so esbuild bundles all three into one IIFE that sets
# window.AcsCalling. --ignore-scripts: no package's install script runs on this machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
npm ci --no-audit --no-fund --ignore-scripts
version="$(node -p 'require("@azure/communication-calling/package.json").version')"
out="$root/static/vendor/azure-communication-calling-$version"
rm -rf "$out"
mkdir -p "$out"
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=AcsCalling \
  --platform=browser --target=es2020 --legal-comments=external --log-level=error \
  --outfile="$out/acs-calling.min.js"
mv "$out/acs-calling.min.js.LEGAL.txt" "$out/LEGAL.txt"
cp node_modules/@azure/communication-calling/LICENSE "$out/LICENSE"
cp node_modules/@azure/communication-calling/NOTICES.txt "$out/NOTICES.txt"
{
  echo "@azure/communication-calling $version, bundled by 'make vendor-acs' (frontend/acs/)"
  echo "with @azure/communication-common $(node -p 'require("@azure/communication-common/package.json").version')"
  echo "and @azure/logger $(node -p 'require("@azure/logger/package.json").version'),"
  echo "esbuild $(./node_modules/.bin/esbuild --version). Licences: LICENSE, NOTICES.txt, LEGAL.txt."
} >"$out/README.txt"
ls -l "$out"
