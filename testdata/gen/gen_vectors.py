#!/usr/bin/env python3
"""Reads inputs.tsv on stdin (see gen_inputs.py) and prints one signature per
line, computed the way the seed's Python sample does, in Python 3:
hashlib.md5(data.encode('utf-8')).hexdigest()."""
import hashlib
import sys

INT_FIELDS = {"order": {2}, "webhook": {4}, "legacy": {2}}

for line in sys.stdin.read().split("\n"):
    if not line:
        continue
    kind, *fields = line.split("\t")
    ints = INT_FIELDS[kind]
    data = "".join(str(int(f)) if i in ints else bytes.fromhex(f).decode("utf-8")
                   for i, f in enumerate(fields))
    md5 = hashlib.md5()
    md5.update(data.encode("utf-8"))
    print(md5.hexdigest())
