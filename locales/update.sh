#!/usr/bin/env bash
# Extract messages from the code and merge them into the three catalogs (README: Translations).
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=${PYBABEL:-.venv/bin/pybabel}
"$pybabel" extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location --no-wrap --sort-output --project Haoxin \
  -o locales/haoxin.pot bot handlers storage locales
for l in zh_Hans_CN yue_Hant_HK en; do
  "$pybabel" update -i locales/haoxin.pot -d locales -D haoxin -l "$l" \
    --no-fuzzy-matching --ignore-obsolete --no-wrap
done
