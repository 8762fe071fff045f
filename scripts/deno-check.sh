#!/usr/bin/env bash
# Type-checks the code that must run unchanged in Deno (party/, client/ and the Deno smoke
# script) with Deno's own checker and libs. deno is not a devDependency (its npm package breaks
# `npm ci` here), so it runs through npx at a pinned version. deno.json at the root makes Deno
# resolve npm packages from ./node_modules ("nodeModulesDir": "manual") and loads
# scripts/deno-partykit-types.d.ts (see there why).
set -euo pipefail
cd "$(dirname "$0")/.."
export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 NO_COLOR=1
exec npx --yes deno@2.9.6 check --config deno.json party/ client/ scripts/deno-smoke.ts
