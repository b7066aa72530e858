#!/usr/bin/env python3
# Writes the one raw .btf inside a btfhub-archive tarball (contents only: the
# entry's owner, mode and path are not trusted). usage: unpack-btf.py IN.tar.xz OUT
import sys, tarfile

with tarfile.open(sys.argv[1]) as t:
    members = [m for m in t.getmembers() if m.isfile() and m.name.endswith(".btf")]
    if len(members) != 1:
        sys.exit("%s: expected one .btf file, found %d" % (sys.argv[1], len(members)))
    data = t.extractfile(members[0]).read()
open(sys.argv[2], "wb").write(data)
