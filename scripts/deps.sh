#!/usr/bin/env bash
# Checks for what Signoff needs on this machine and, when run as root on
# Debian, installs what is missing. Otherwise prints what to install.
#   scripts/deps.sh go         Go (only checked: it says where to get it)
#   scripts/deps.sh postgres   the PostgreSQL server (initdb, pg_ctl)
#   scripts/deps.sh test       the tools the tests use
set -euo pipefail

missing=()
have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

case "${1:-postgres}" in
  go)
    if ! command -v "${GO:-go}" >/dev/null 2>&1; then
      echo "Go is not installed (or not on PATH). Signoff needs Go 1.26 or newer: https://go.dev/dl/ (then add /usr/local/go/bin to PATH)." >&2
      exit 1
    fi
    exit 0
    ;;
  postgres)
    have_pg || missing+=(postgresql)
    ;;
  test)
    command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v caddy >/dev/null 2>&1 || missing+=(caddy)
    command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    command -v gcc >/dev/null 2>&1 || missing+=(gcc) # cgo, for the tests' OpenID provider (Hydra with SQLite)
    ;;
  *) echo "usage: $0 postgres|test" >&2; exit 2 ;;
esac

# The W3C Nu HTML checker (vnu.jar), which the web tests run over every
# page they fetch: from npm, into the user's cache folder, outside the clone.
vnu_install() {
  [ "${1:-}" = test ] || return 0
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/signoff/vnu"
  [ -f "$dir/node_modules/vnu-jar/build/dist/vnu.jar" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0 # reported as missing above
  echo "Installing the Nu HTML checker (npm vnu-jar) into $dir..."
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error vnu-jar@26.9.27 >/dev/null
}

if [ ${#missing[@]} -eq 0 ]; then
  vnu_install "${1:-postgres}"
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  for p in "${missing[@]}"; do
    case "$p" in
      postgresql) echo "Installing PostgreSQL with apt-get (about a minute)..." ;;
      chromium) echo "Installing chromium with apt-get for the browser tests (a few minutes)..." ;;
      *) echo "Installing $p with apt-get..." ;;
    esac
  done
  export DEBIAN_FRONTEND=noninteractive
  echo "  apt-get update..."
  apt-get update -qq
  echo "  apt-get install ${missing[*]}..."
  apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "  installed ${missing[*]}."
  vnu_install "${1:-postgres}"
  exit 0
fi
echo "Missing: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and try again." >&2
exit 1
