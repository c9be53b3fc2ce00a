#!/usr/bin/env bash
# Newcomer's first run: set up, then build the bundled example integration offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/oic-build --integration-path examples/hello-world --manage-connections false \
  --artifact-dir oic-artifacts "$@"
echo "--- oic-artifacts/HELLO_WORLD_01.00.0000:"
ls -l oic-artifacts/HELLO_WORLD_01.00.0000
