// SPDX-License-Identifier: GPL-2.0-or-later
// Edits a real kernel BTF through libbpf's btf__ API, to give `btfctl check`
// kernels that differ from the fixtures in a known way:
//   rename STRUCT MEMBER NEW  a member renamed: the kernel lacks STRUCT.MEMBER
//                             (as request.rq_disk went away in 5.17)
//   flavor STRUCT MEMBER NEW  adds struct NEW (a flavor such as task_struct___x)
//                             holding only MEMBER, at offset 0: two candidates
//                             that disagree on MEMBER's offset (an ambiguity)
// usage: btf-edit IN_RAW_BTF OUT_RAW_BTF rename|flavor STRUCT MEMBER NEW
#include <bpf/btf.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const struct btf_member* find_member(const struct btf* btf, const struct btf_type* t, const char* name) {
  for (int i = 0; i < btf_vlen(t); ++i) {
    const char* n = btf__name_by_offset(btf, btf_members(t)[i].name_off);
    if (n && std::strcmp(n, name) == 0) return btf_members(t) + i;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: btf-edit IN_RAW_BTF OUT_RAW_BTF rename|flavor STRUCT MEMBER NEW\n");
    return 2;
  }
  const std::string op = argv[3];
  const char *strct = argv[4], *member = argv[5], *new_name = argv[6];
  struct btf* btf = btf__parse_raw(argv[1]);
  if (!btf) {
    std::fprintf(stderr, "btf-edit: cannot read %s as raw BTF\n", argv[1]);
    return 1;
  }
  int id = btf__find_by_name_kind(btf, strct, BTF_KIND_STRUCT);
  // Adding a string makes the BTF modifiable (libbpf copies the types out of
  // the raw buffer); types are looked up after that, in the copy.
  int name_off = btf__add_str(btf, new_name);
  if (id <= 0 || name_off < 0) {
    std::fprintf(stderr, "btf-edit: no struct %s (or cannot add a string)\n", strct);
    return 1;
  }
  const struct btf_type* t = btf__type_by_id(btf, static_cast<__u32>(id));
  const struct btf_member* m = find_member(btf, t, member);
  if (!m) {
    std::fprintf(stderr, "btf-edit: struct %s has no member %s\n", strct, member);
    return 1;
  }
  if (op == "rename") {
    // libbpf has no setter for a member's name; its types are writable once the
    // BTF is modifiable, and btf__raw_data() lays them out again.
    const_cast<struct btf_member*>(m)->name_off = static_cast<__u32>(name_off);
  } else if (op == "flavor") {
    __u32 member_type = m->type;
    int nid = btf__add_struct(btf, new_name, 64);
    if (nid < 0 || btf__add_field(btf, member, static_cast<int>(member_type), 0, 0) < 0) {
      std::fprintf(stderr, "btf-edit: adding struct %s failed\n", new_name);
      return 1;
    }
  } else {
    std::fprintf(stderr, "btf-edit: unknown operation %s\n", op.c_str());
    return 2;
  }
  __u32 size = 0;
  const void* raw = btf__raw_data(btf, &size);
  FILE* out = raw ? std::fopen(argv[2], "wbe") : nullptr;
  if (!out || std::fwrite(raw, 1, size, out) != size || std::fclose(out) != 0) {
    std::perror(argv[2]);
    return 1;
  }
  std::printf("%s %s.%s -> %s (struct [%d])\n", op.c_str(), strct, member, new_name, id);
  btf__free(btf);
  return 0;
}
