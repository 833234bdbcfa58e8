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
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "note: install these Debian packages for the full test suite: ${need[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
