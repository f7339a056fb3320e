#!/bin/sh
# Make sure the Firefox tests have Firefox: Debian's firefox-esr, installed when missing and we may.
# puppeteer-core drives this system browser over WebDriver BiDi; no browser is ever downloaded.
#
# Exits non-zero, saying how to fix it, when Firefox is missing and cannot be installed: a test run
# without the browser tests must be asked for (KITH_SKIP_BROWSER=1), never happen by accident.
set -eu

FIREFOX="${KITH_FIREFOX:-/usr/bin/firefox-esr}"

fail() {
    {
        echo
        echo "ERROR: no Firefox for the browser tests at $FIREFOX: $1"
        echo "Fix it in one of these ways:"
        echo "  - install Debian's firefox-esr as root:  apt-get install firefox-esr   (then run make again)"
        echo "  - point KITH_FIREFOX at an existing Firefox:  make test KITH_FIREFOX=/path/to/firefox"
        echo "  - or, knowingly, run everything else:  make test KITH_SKIP_BROWSER=1"
        echo
    } >&2
    exit 1
}

if [ -n "${KITH_SKIP_BROWSER:-}" ] && [ "${KITH_SKIP_BROWSER}" != "0" ]; then
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!  KITH_SKIP_BROWSER is set: the Firefox tests will NOT run."
        echo "!!  This is not a full test run. Unset KITH_SKIP_BROWSER for one."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
    exit 0
fi

if [ -x "$FIREFOX" ]; then
    exit 0
fi
if [ -n "${KITH_FIREFOX:-}" ]; then
    fail "KITH_FIREFOX names nothing executable (a custom path is never installed automatically)."
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
echo "Installing Debian's firefox-esr for the browser tests..." >&2
if ! $SUDO apt-get update -qq; then
    fail "it is missing and 'apt-get update' failed (no network to the package archive?)."
fi
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq firefox-esr >/dev/null; then
    fail "it is missing and 'apt-get install firefox-esr' failed."
fi
if [ ! -x "$FIREFOX" ]; then
    fail "'apt-get install firefox-esr' finished but put nothing there."
fi
