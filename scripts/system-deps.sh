#!/usr/bin/env bash
# Debian packages the lab and the tests use. Installed only when missing, and only as root
# (a non-root developer gets a list to install instead). Idempotent and quiet.
set -euo pipefail
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v snmpbulkwalk >/dev/null 2>&1 || need+=(snmp)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)  # floor-plan PDFs: first page to PNG
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # browser tests of the web UI (driven by Playwright)
# Deliverables: Graphviz lays out the wiring diagram; WeasyPrint renders PDFs on Pango; a CJK font so
# Japanese/Chinese/Korean names render; poppler and rsvg turn PDFs/SVGs into PNGs to look at in tests.
command -v dot >/dev/null 2>&1 || need+=(graphviz)
# (grep reads to the end, not -q: an early exit would fail the pipe under pipefail)
ldconfig -p 2>/dev/null | grep -c "libpango-1.0.so" >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v fc-list >/dev/null 2>&1 || need+=(fontconfig)
fc-list 2>/dev/null | grep -ci "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "note: install these Debian packages for the full test suite: ${need[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
