#!/bin/sh
# gen.sh regenerates testdata/sign_vectors.json and testdata/webhook_vectors.json:
# it writes the inputs (gen_inputs.py), signs them with the seed's reference
# code in Node.js, Python 3 and Java, fails unless all three agree, and merges
# the results. Needs node, python3 and a JDK. Run from anywhere.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 gen_inputs.py > inputs.tsv
node gen_vectors.js < inputs.tsv > "$tmp/node.txt"
python3 gen_vectors.py < inputs.tsv > "$tmp/python.txt"
javac -d "$tmp" GenVectors.java
java -cp "$tmp" GenVectors < inputs.tsv > "$tmp/java.txt"
python3 merge.py inputs.tsv "$tmp/node.txt" "$tmp/python.txt" "$tmp/java.txt" ..
