#!/usr/bin/env bash
# Builds the zip Partner Center takes for the Azure Application offer (azure.md §4.1):
# mainTemplate.json and createUiDefinition.json at the root (case-sensitive names). The template
# is self-contained (policies and workbook inlined), so there are no nested artifacts.
# usage: marketplace/package.sh [--out DIR]   (default DIR: target/marketplace); needs `zip`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
readonly FILES=(mainTemplate.json createUiDefinition.json)
# Partner Center's limit for a service-catalog / managed-application package.
readonly PACKAGE_BYTES_MAX=$((120 * 1024 * 1024))

OUT_DIR="$HERE/../target/marketplace"
while [ "$#" -gt 0 ]; do
    case "$1" in
        --out) OUT_DIR="$2"; shift 2 ;;
        *) echo "usage: marketplace/package.sh [--out DIR]" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"

for file in "${FILES[@]}"; do
    [ -f "$HERE/$file" ] || { echo "missing $file" >&2; exit 1; }
done
# A template Bicep compiled to languageVersion 2.0 is refused by managed applications.
if grep -q '"languageVersion"' "$HERE/mainTemplate.json"; then
    echo "mainTemplate.json must be languageVersion 1.0" >&2
    exit 1
fi
rm -f "$OUT_DIR/marketplace.zip"
(cd "$HERE" && zip -q -X "$OUT_DIR/marketplace.zip" "${FILES[@]}")
size=$(stat -c %s "$OUT_DIR/marketplace.zip")
[ "$size" -le "$PACKAGE_BYTES_MAX" ] || { echo "package is $size bytes, over $PACKAGE_BYTES_MAX" >&2; exit 1; }
echo "$OUT_DIR/marketplace.zip"
