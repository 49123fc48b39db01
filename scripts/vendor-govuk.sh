#!/usr/bin/env bash
# Vendor the precompiled GOV.UK Frontend stylesheet into web/static/.
#
# Signoff follows GOV.UK Frontend patterns but is NOT a government service, so
# the vendored copy is stripped of everything that is restricted to GOV.UK:
#   - the "GDS Transport" @font-face rules are removed and the font stack is
#     replaced with a system font stack (GDS Transport is licensed to GOV.UK only);
#   - url(...) references to the GOV.UK crest image (footer copyright logo) are
#     replaced with "none" (we never ship the crest or the crown);
#   - the sourceMappingURL comment is removed (we don't ship the .map file).
# The script fails loudly if a new version introduces anything it does not know
# how to handle (another @font-face, another url(...), a leftover GDS Transport).
#
# Output (committed, so the build works offline):
#   web/static/govuk-frontend.min.css
#   web/static/govuk-frontend.LICENSE.txt
#
# Requires: npm + node, tar, sed, grep. Idempotent: re-running with the same
# pinned version produces byte-identical files.
#
# To upgrade: change VERSION and INTEGRITY (from
# `npm view govuk-frontend@X.Y.Z dist.integrity`), re-run, review the diff.
set -euo pipefail

VERSION="6.6.0"
INTEGRITY="sha512-xctkWrQvLnvQt7fyjQ3MGX9S0wz0x0RQuLxCeoXF+s8EjGICG81/DYQGKN5qgO+0KVT12UAaRwUsGY6fulRcRg=="
SYSTEM_FONT_STACK='system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif'

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$root/web/static"
out_css="$out_dir/govuk-frontend.min.css"
out_license="$out_dir/govuk-frontend.LICENSE.txt"

die() { echo "vendor-govuk: $*" >&2; exit 1; }

for tool in npm node tar sed grep; do
	command -v "$tool" >/dev/null 2>&1 || die "missing required tool: $tool"
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "vendor-govuk: fetching govuk-frontend@$VERSION"
(cd "$tmp" && npm pack --silent "govuk-frontend@$VERSION" >/dev/null)
tgz="$tmp/govuk-frontend-$VERSION.tgz"
[[ -f "$tgz" ]] || die "npm pack did not produce $tgz"

actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
[[ "$actual" == "$INTEGRITY" ]] || die "integrity mismatch for $tgz: got $actual, want $INTEGRITY"

tar -xzf "$tgz" -C "$tmp"
pkg="$tmp/package"
src_css="$pkg/dist/govuk/govuk-frontend.min.css"
[[ -f "$src_css" ]] || die "not found in package: dist/govuk/govuk-frontend.min.css"

mkdir -p "$out_dir"

# --- CSS -------------------------------------------------------------------
# 1. drop @font-face rules for GDS Transport (quoted or unquoted family name);
# 2. swap the GDS Transport font stack for a system stack;
# 3. neutralise the crest image used by .govuk-footer__copyright-logo;
# 4. replace the sourceMappingURL comment with a provenance note (must not go
#    before @charset, which has to stay the very first thing in the file).
note="/*! govuk-frontend $VERSION (MIT, see govuk-frontend.LICENSE.txt). Modified by scripts/vendor-govuk.sh: GOV.UK font replaced by system fonts, crest image removed. */"
sed -E \
	-e 's/@font-face\{font-family:"?GDS Transport"?;[^}]*\}//g' \
	-e "s/\"?GDS Transport\"?,arial,sans-serif/${SYSTEM_FONT_STACK}/g" \
	-e 's#url\(/assets/images/govuk-crest\.svg\)#none#g' \
	-e "s#/\\*\\# sourceMappingURL=[^*]*\\*/#${note}#" \
	"$src_css" >"$tmp/out.css"

if grep -q 'GDS Transport' "$tmp/out.css"; then
	die "'GDS Transport' still present after rewriting; update the sed rules"
fi
if grep -q '@font-face' "$tmp/out.css"; then
	die "unexpected @font-face left in the CSS; review it and update the script"
fi
if grep -q 'sourceMappingURL' "$tmp/out.css"; then
	die "sourceMappingURL still present"
fi
if urls="$(grep -oE 'url\([^)]*\)' "$tmp/out.css")"; then
	die "unhandled url(...) references (assets we do not ship):
$urls"
fi

mv "$tmp/out.css" "$out_css"

# --- Licence -----------------------------------------------------------------
# The npm tarball ships no LICENSE file (only the "Licence" section of its
# README), so use a LICENSE file if a future version includes one and
# otherwise reproduce the upstream repository's LICENSE.txt (MIT).
{
	echo "govuk-frontend $VERSION (https://github.com/alphagov/govuk-frontend)"
	echo "Vendored file: govuk-frontend.min.css (from dist/govuk/ of the npm package),"
	echo "modified by scripts/vendor-govuk.sh to remove the GDS Transport font and"
	echo "the GOV.UK crest image references. This service is not a GOV.UK service."
	echo
	echo "--------------------------------------------------------------------------"
	echo
	pkg_license="$(find "$pkg" -maxdepth 1 -iname 'licen[cs]e*' -type f | sort | head -n 1)"
	if [[ -n "$pkg_license" ]]; then
		cat "$pkg_license"
	else
		cat <<'EOF'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF
	fi
	echo
	echo "--------------------------------------------------------------------------"
	echo "Licence section of the package README:"
	echo
	# From the "## Licence" heading up to (not including) the next "## " heading.
	licence_section="$(awk '/^## Licen[cs]e/{p=1; next} p && /^## /{exit} p' "$pkg/README.md")"
	[[ -n "${licence_section//[[:space:]]/}" ]] || die "no Licence section found in the package README"
	printf '%s\n' "$licence_section" | sed -e '/./,$!d'
} >"$tmp/LICENSE.txt"

mv "$tmp/LICENSE.txt" "$out_license"

echo "vendor-govuk: wrote ${out_css#"$root"/} and ${out_license#"$root"/}"
