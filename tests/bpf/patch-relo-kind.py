#!/usr/bin/env python3
# Rewrites CO-RE relocation records of kind FROM to kind TO in a BPF object's
# .BTF.ext (clang 14 cannot emit type_matches, kind 12; its instruction effect is
# the same as type_exists, kind 8). usage: patch-relo-kind.py IN OUT FROM TO
import struct, sys

def sections(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = hdrs[shstrndx][4]
    for h in hdrs:
        end = data.index(b"\0", strtab_off + h[0])
        yield data[strtab_off + h[0]:end].decode(), h[4], h[5]

src, dst, frm, to = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = bytearray(open(src, "rb").read())
ext = [(off, size) for name, off, size in sections(data) if name == ".BTF.ext"]
if not ext:
    sys.exit("no .BTF.ext in " + src)
base = ext[0][0]
hdr_len, = struct.unpack_from("<I", data, base + 4)
off, length = struct.unpack_from("<II", data, base + 24)
pos = base + hdr_len + off
end = pos + length
rec_size, = struct.unpack_from("<I", data, pos)
pos += 4
patched = 0
while pos < end:
    _, num = struct.unpack_from("<II", data, pos)
    pos += 8
    for _ in range(num):
        if struct.unpack_from("<I", data, pos + 12)[0] == frm:
            struct.pack_into("<I", data, pos + 12, to)
            patched += 1
        pos += rec_size
if not patched:
    sys.exit("no relocation of kind %d in %s" % (frm, src))
open(dst, "wb").write(data)
