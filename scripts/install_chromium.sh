#!/bin/sh
# Make sure the browser tests have Chromium: Debian's chromium, installed when missing and we may.
# Playwright drives this system browser; its own browser download is never used.
#
# Exits non-zero, saying how to fix it, when Chromium is missing and cannot be installed: a test run
# without the browser tests must be asked for (KITH_SKIP_BROWSER=1), never happen by accident.
set -eu

CHROMIUM="${KITH_CHROMIUM:-/usr/bin/chromium}"

fail() {
    {
        echo
        echo "ERROR: no Chromium for the browser tests at $CHROMIUM: $1"
        echo "Fix it in one of these ways:"
        echo "  - install Debian's chromium as root:  apt-get install chromium   (then run make again)"
        echo "  - point KITH_CHROMIUM at an existing Chromium:  make test KITH_CHROMIUM=/path/to/chromium"
        echo "  - or, knowingly, run everything else:  make test KITH_SKIP_BROWSER=1"
        echo
    } >&2
    exit 1
}

if [ -n "${KITH_SKIP_BROWSER:-}" ] && [ "${KITH_SKIP_BROWSER}" != "0" ]; then
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!  KITH_SKIP_BROWSER is set: the browser tests will NOT run (extension, pages)."
        echo "!!  This is not a full test run. Unset KITH_SKIP_BROWSER for one."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
    exit 0
fi

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ -n "${KITH_CHROMIUM:-}" ]; then
    fail "KITH_CHROMIUM names nothing executable (a custom path is never installed automatically)."
fi
if [ "$(id -u)" = "0" ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    fail "it is missing and this user cannot install it (not root, no password-less sudo)."
fi
if ! command -v apt-get >/dev/null 2>&1; then
    fail "it is missing and apt-get (Debian's installer) is not available here."
fi
echo "Installing Debian's chromium for the browser tests..." >&2
if ! $SUDO apt-get update -qq; then
    fail "it is missing and 'apt-get update' failed (no network to the package archive?)."
fi
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; then
    fail "it is missing and 'apt-get install chromium' failed."
fi
if [ ! -x "$CHROMIUM" ]; then
    fail "'apt-get install chromium' finished but put nothing there."
fi
