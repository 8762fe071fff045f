#!/usr/bin/env bash
# Makes sure a tool the tests drive is installed: `npm test` runs it first for Debian's
# chromium (the browser tests) and Debian's prometheus (its promtool checks GET /metrics).
#   bash scripts/ensure-apt-package.sh WHO BINARY PACKAGE ENV_VAR [--with-recommends]
# WHO says which tests need it ("the browser tests"); BINARY is a path or a command name; PACKAGE is the Debian
# package that provides it; ENV_VAR names a variable that may point at another binary. When
# the binary is missing it installs PACKAGE with apt-get (as root, or with sudo without a
# password; recommended packages only with --with-recommends, which chromium's fonts need) and
# otherwise stops with the command to run.
set -euo pipefail
if [ "$#" -lt 4 ] || [ "$#" -gt 5 ] || { [ "$#" -eq 5 ] && [ "$5" != "--with-recommends" ]; }; then
  echo "usage: bash scripts/ensure-apt-package.sh WHO BINARY PACKAGE ENV_VAR [--with-recommends]" >&2
  exit 2
fi
who="$1" binary="$2" package="$3" var="$4"
recommends=(--no-install-recommends)
if [ "${5:-}" = "--with-recommends" ]; then
  recommends=()
fi
override="${!var:-}"
found="${override:-$(command -v "$binary" || true)}"
if [ -n "$found" ] && [ -x "$found" ]; then
  exit 0
fi
if [ -n "$override" ]; then
  echo "$var=$override is not an executable: point it at a $binary binary" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "Missing $binary (Debian's $package package), for $who. Install it, then run npm test again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${recommends[*]} $package" >&2
    echo "(or set $var to a $binary binary)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "Missing $binary, for $who, and this machine has no apt-get: install it and set $var to it" >&2
  exit 1
fi
echo "installing Debian's $package for $who (apt-get)…" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${recommends[@]}" "$package" >/dev/null
installed="$(command -v "$binary" || true)"
if [ -z "$installed" ]; then
  echo "apt-get installed $package but $binary is still missing" >&2
  exit 1
fi
"$installed" --version >&2
