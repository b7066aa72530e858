// SPDX-License-Identifier: GPL-2.0-or-later
// The relocation oracle: libbpf's own CO-RE results for OBJECT relocated against
// TARGET_BTF (btf_custom_path). Prints libbpf's per-relocation lines; relocation
// runs inside bpf_object__load() before the verifier, so a rejected program
// still yields every line. Needs bpf(2) (libbpf probes the kernel first).
// With PROGRAM, only that program is loaded (the others' autoload is off), so
// one program's verdict is told apart from its object's.
#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

static int print(enum libbpf_print_level, const char* fmt, va_list ap) {
  char line[2048];
  std::vsnprintf(line, sizeof line, fmt, ap);
  if (std::strstr(line, ": relo #") || std::strstr(line, "CO-RE relocations") || std::strstr(line, "ambiguity"))
    std::fputs(line, stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: core-oracle OBJECT TARGET_BTF [PROGRAM]\n");
    return 2;
  }
  libbpf_set_print(print);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argv[2]);
  struct bpf_object* obj = bpf_object__open_file(argv[1], &opts);
  if (!obj) {
    std::perror("open");
    return 1;
  }
  if (argc == 4) {
    bool found = false;
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
      bool mine = std::strcmp(bpf_program__name(prog), argv[3]) == 0;
      found |= mine;
      bpf_program__set_autoload(prog, mine);
    }
    if (!found) {
      std::fprintf(stderr, "core-oracle: no program %s\n", argv[3]);
      bpf_object__close(obj);
      return 1;
    }
  }
  int err = bpf_object__load(obj);
  std::printf("load: %d\n", err);
  bpf_object__close(obj);
  return 0;
}
