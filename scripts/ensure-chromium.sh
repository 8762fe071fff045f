#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core downloads no browser). `npm test`
# runs this first: it installs chromium with apt-get when it can (as root, or with sudo
# without a password), and otherwise stops with the command to run. CHROMIUM_PATH names
# another binary.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable: point it at a Chromium binary" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "The browser tests need Debian's chromium at /usr/bin/chromium. Install it, then run npm test again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
    echo "(or set CHROMIUM_PATH to a Chromium binary)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium and this machine has no apt-get: install Chromium and set CHROMIUM_PATH to it" >&2
  exit 1
fi
echo "installing Debian's chromium for the browser tests (apt-get)…" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq chromium >/dev/null
"$chromium" --version >&2
