#!/usr/bin/env bash
# The metrics integration test checks GET /metrics with Prometheus' own parser, `promtool check
# metrics` (Debian's `prometheus` package: about 19 MB, ~20 s to install here). `npm test` runs
# this first: it installs the package with apt-get when it can (as root, or with sudo without a
# password), and otherwise stops with the command to run. PROMTOOL_PATH names another binary.
set -euo pipefail
promtool="${PROMTOOL_PATH:-$(command -v promtool || true)}"
if [ -n "$promtool" ] && [ -x "$promtool" ]; then
  exit 0
fi
if [ -n "${PROMTOOL_PATH:-}" ]; then
  echo "PROMTOOL_PATH=$PROMTOOL_PATH is not an executable: point it at a promtool binary" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "The metrics test needs promtool (Debian's prometheus package). Install it, then run npm test again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus" >&2
    echo "(or set PROMTOOL_PATH to a promtool binary)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "The metrics test needs promtool and this machine has no apt-get: install Prometheus' promtool and set PROMTOOL_PATH to it" >&2
  exit 1
fi
echo "installing Debian's prometheus (for promtool) for the metrics test (apt-get)…" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
promtool --version >&2
