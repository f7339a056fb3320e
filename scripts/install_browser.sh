#!/bin/sh
# Make sure the browser tests have their browser: Debian's chromium or firefox-esr, installed when
# missing and we may. Playwright (Chromium) and puppeteer-core (Firefox, over WebDriver BiDi) drive
# these system browsers; no browser is ever downloaded.
#
#   sh scripts/install_browser.sh chromium|firefox
#
# Exits non-zero, saying how to fix it, when the browser is missing and cannot be installed: a test
# run without the browser tests must be asked for (KITH_SKIP_BROWSER=1), never happen by accident.
set -eu

case "${1:-}" in
    chromium) NAME=Chromium; PACKAGE=chromium; VAR=KITH_CHROMIUM; BROWSER="${KITH_CHROMIUM:-/usr/bin/chromium}" ;;
    firefox) NAME=Firefox; PACKAGE=firefox-esr; VAR=KITH_FIREFOX; BROWSER="${KITH_FIREFOX:-/usr/bin/firefox-esr}" ;;
    *) echo "usage: sh scripts/install_browser.sh chromium|firefox" >&2; exit 2 ;;
esac
CUSTOM=$(eval "echo \${$VAR:-}")

fail() {
    {
        echo
        echo "ERROR: no $NAME for the browser tests at $BROWSER: $1"
        echo "Fix it in one of these ways:"
        echo "  - install Debian's $PACKAGE as root:  apt-get install $PACKAGE   (then run make again)"
        echo "  - point $VAR at an existing $NAME:  make test $VAR=/path/to/$PACKAGE"
        echo "  - or, knowingly, run everything else:  make test KITH_SKIP_BROWSER=1"
        echo
    } >&2
    exit 1
}

if [ -n "${KITH_SKIP_BROWSER:-}" ] && [ "${KITH_SKIP_BROWSER}" != "0" ]; then
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!  KITH_SKIP_BROWSER is set: the $NAME browser tests will NOT run."
        echo "!!  This is not a full test run. Unset KITH_SKIP_BROWSER for one."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
    exit 0
fi

if [ -x "$BROWSER" ]; then
    exit 0
fi
if [ -n "$CUSTOM" ]; then
    fail "$VAR names nothing executable (a custom path is never installed automatically)."
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
echo "Installing Debian's $PACKAGE for the browser tests..." >&2
if ! $SUDO apt-get update -qq; then
    fail "it is missing and 'apt-get update' failed (no network to the package archive?)."
fi
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$PACKAGE" >/dev/null; then
    fail "it is missing and 'apt-get install $PACKAGE' failed."
fi
if [ ! -x "$BROWSER" ]; then
    fail "'apt-get install $PACKAGE' finished but put nothing there."
fi
