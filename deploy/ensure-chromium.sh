#!/usr/bin/env bash
# The portal's browser test (services/planning/tests/test_portal_browser.py) drives Debian's
# chromium with playwright (never playwright's own download), and its screenshots need a Chinese
# font. Install both with apt when root and missing; otherwise say what to do and go on: the test
# then skips, saying why. Never fails the set-up.
set -uo pipefail
chromium=${CHROMIUM:-/usr/bin/chromium}
missing=()
[ -x "$chromium" ] || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "The portal's browser test needs ${missing[*]}: installing with apt-get…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
    || echo "apt-get could not install ${missing[*]}: the portal's browser test will skip" >&2
else
  echo "The portal's browser test will skip: ${missing[*]} missing (Debian: sudo apt-get install ${missing[*]})" >&2
fi
exit 0
