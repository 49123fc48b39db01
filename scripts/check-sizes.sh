#!/usr/bin/env bash
# Fails when a tracked file is over 1 MB (vendored assets excepted) or README.md
# is over 40 KB (the front door stays short; reference goes to docs/), so an
# accident like a README grown to megabytes cannot land;
# and when a handler file of internal/web is over 320 lines (one page, or a
# small group of actions on one page, per file: split a page that grows).
# Run by `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."

max_file=$((1024 * 1024))
max_readme=$((40 * 1024))
# Vendored assets we do not write ourselves: GOV.UK Frontend's CSS and any fonts.
vendored='^web/static/(govuk-frontend\.[^/]*|fonts/.*)$'

status=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue # deleted in the work tree but still tracked
  size=$(stat -c %s -- "$f")
  if [ "$f" = README.md ] && [ "$size" -gt "$max_readme" ]; then
    echo "README.md is $size bytes; it must stay under $max_readme (move reference material to docs/)." >&2
    status=1
  elif [ "$size" -gt "$max_file" ] && ! [[ "$f" =~ $vendored ]]; then
    echo "$f is $size bytes; tracked files must be under $max_file bytes." >&2
    status=1
  fi
done < <(git ls-files -z)

max_handler=320
for f in internal/web/*.go; do
  case "$f" in *_test.go) continue ;; esac
  lines=$(wc -l <"$f")
  if [ "$lines" -gt "$max_handler" ]; then
    echo "$f is $lines lines; a handler file stays under $max_handler (one page per file: split it)." >&2
    status=1
  fi
done
exit $status
