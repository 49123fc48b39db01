#!/usr/bin/env bash
# Checks for what Signoff needs on this machine and, when run as root on
# Debian, installs what is missing. Otherwise prints what to install.
#   scripts/deps.sh postgres   the PostgreSQL server (initdb, pg_ctl)
#   scripts/deps.sh test       the tools the tests use
set -euo pipefail

missing=()
have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

case "${1:-postgres}" in
  postgres)
    have_pg || missing+=(postgresql)
    ;;
  test)
    command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    ;;
  *) echo "usage: $0 postgres|test" >&2; exit 2 ;;
esac

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "Missing: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and try again." >&2
exit 1
