# SPDX-License-Identifier: GPL-2.0-or-later
# BPF objects a hostile client would send, built byte by byte: an ELF64
# relocatable for EM_BPF holding a .BTF and a .BTF.ext with CO-RE relocation
# records (all that btfd reads of an object), as tests/unit/btf/bpf_elf.hpp
# builds them in C++. Small files that cost a careless minimizer a lot: many
# relocations against types with long names.
import struct

BTF_KIND_INT, BTF_KIND_STRUCT = 1, 4
FIELD_BYTE_OFFSET = 0


class Strings:
    def __init__(self):
        self.data = b"\0"
        self.offsets = {"": 0}

    def add(self, s):
        if s not in self.offsets:
            self.offsets[s] = len(self.data)
            self.data += s.encode() + b"\0"
        return self.offsets[s]


def btf_bytes(types, strings):
    """types: the records' bytes, in id order from 1."""
    body = b"".join(types)
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(body), len(body), len(strings.data))
    return hdr + body + strings.data


def btf_ext_bytes(sec_name_off, relos):
    """relos: (insn_off, type_id, access_str_off, kind) tuples, one section."""
    sub = struct.pack("<III", 16, sec_name_off, len(relos)) + b"".join(struct.pack("<IIII", *r) for r in relos)
    # magic, version 1, flags 0, hdr_len 32; func/line info empty; core_relo at 0.
    hdr = struct.pack("<HBBIIIIIII", 0xEB9F, 1, 0, 32, 0, 0, 0, 0, 0, len(sub))
    return hdr + sub


def elf(btf, btf_ext):
    shstr = b"\0.shstrtab\0.BTF\0.BTF.ext\0"
    secs = [(1, 3, shstr, 1), (11, 1, btf, 4), (16, 1, btf_ext, 4)]  # name, SHT_STRTAB/PROGBITS, data, align
    out = bytearray(64)
    shdrs = [b"\0" * 64]
    for name, typ, data, align in secs:
        out += b"\0" * (-len(out) % 8)
        shdrs.append(struct.pack("<IIQQQQIIQQ", name, typ, 0, 0, len(out), len(data), 0, 0, align, 0))
        out += data
    out += b"\0" * (-len(out) % 8)
    shoff = len(out)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9  # ELFCLASS64, little endian, EV_CURRENT
    out[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(shdrs), 1)
    return bytes(out) + b"".join(shdrs)


def many_relocations(count, name_len, section_len=8, distinct_types=1):
    """An object with `count` FIELD_BYTE_OFFSET relocations of field 0 of
    structs named task_struct___<padding> (a flavour of a type every kernel
    has, so each relocation finds candidates), the names name_len bytes long;
    its section name is section_len bytes long."""
    s = Strings()
    types = [struct.pack("<III", s.add("int"), BTF_KIND_INT << 24, 4) + struct.pack("<I", 32)]
    for t in range(distinct_types):
        suffix = ("%d_" % t).ljust(max(1, name_len - len("task_struct___")), "x")
        name = ("task_struct___" + suffix)[:max(name_len, len("task_struct___") + 1)]
        # struct { int pid; } (a kernel's task_struct has a pid, at some offset)
        types.append(struct.pack("<III", s.add(name), BTF_KIND_STRUCT << 24 | 1, 4) +
                     struct.pack("<III", s.add("pid"), 1, 0))
    access = s.add("0:0")
    sec = s.add("kprobe/" + "s" * max(1, section_len - len("kprobe/")))
    relos = [(8 * i, 2 + i % distinct_types, access, FIELD_BYTE_OFFSET) for i in range(count)]
    return elf(btf_bytes(types, s), btf_ext_bytes(sec, relos))
