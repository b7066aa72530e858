// SPDX-License-Identifier: GPL-2.0-or-later
// Writes a synthetic kernel BTF that was never deduplicated: COPIES full copies
// of a real kernel's types one after another, so every kernel type has COPIES
// identical CO-RE candidates (like CentOS 8's 4.18.0-147 BTF, 44 MB with
// hundreds of copies of task_struct, which is too big to keep in the repo).
// usage: dup-kernel IN_RAW_BTF COPIES OUT_RAW_BTF
#include <bpf/btf.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: dup-kernel IN_RAW_BTF COPIES OUT_RAW_BTF\n");
    return 2;
  }
  int copies = std::atoi(argv[2]);
  struct btf* src = btf__parse_raw(argv[1]);
  struct btf* dst = btf__new_empty();
  if (!src || !dst || copies < 1) {
    std::fprintf(stderr, "dup-kernel: cannot read %s as raw BTF (or bad COPIES)\n", argv[1]);
    return 1;
  }
  for (int i = 0; i < copies; ++i) {
    if (btf__add_btf(dst, src) < 0) {
      std::fprintf(stderr, "dup-kernel: appending copy %d failed\n", i + 1);
      return 1;
    }
  }
  __u32 size = 0;
  const void* raw = btf__raw_data(dst, &size);
  FILE* out = raw ? std::fopen(argv[3], "wbe") : nullptr;
  if (!out || std::fwrite(raw, 1, size, out) != size || std::fclose(out) != 0) {
    std::perror(argv[3]);
    return 1;
  }
  std::printf("%u types, %u bytes\n", btf__type_cnt(dst) - 1, size);
  btf__free(dst);
  btf__free(src);
  return 0;
}
