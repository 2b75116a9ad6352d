#!/usr/bin/env bash
# Make sure Prometheus's tools are installed (promtool for the rules' tests, prometheus and
# prometheus-alertmanager for `make monitor`): Debian's packages, installed with apt when root and
# missing, otherwise say what to do (the tests that need them skip, saying so). Starts nothing.
set -euo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get…"
  # the packages' own services are not wanted here (make monitor starts its own, on other ports)
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: ${missing[*]} not installed (Debian: sudo apt-get install ${missing[*]}); the monitoring tests skip" >&2
fi
