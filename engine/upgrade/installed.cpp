// SPDX-License-Identifier: GPL-2.0-or-later
#include "upgrade/installed.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "kernel/identity.hpp"

namespace btfd::upgrade {

std::vector<std::string> installed_releases(const std::string& host_root, const std::vector<std::string>& module_dirs) {
  std::vector<std::string> out;
  for (const auto& d : module_dirs) {
    std::string dir = host_path(host_root, d);
    DIR* h = ::opendir(dir.c_str());
    if (!h) continue;
    while (struct dirent* e = ::readdir(h)) {
      struct stat st {};
      if (e->d_name[0] != '.' && ::stat((dir + "/" + e->d_name).c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        out.emplace_back(e->d_name);
    }
    ::closedir(h);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool elf_has_btf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  elf_version(EV_CURRENT);
  bool found = false;
  if (Elf* elf = elf_begin(fd, ELF_C_READ, nullptr)) {
    size_t shstrndx;
    if (elf_kind(elf) == ELF_K_ELF && elf_getshdrstrndx(elf, &shstrndx) == 0) {
      for (Elf_Scn* scn = nullptr; !found && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) break;
        const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
        found = name && std::strcmp(name, ".BTF") == 0 && sh.sh_size > 0;
      }
    }
    elf_end(elf);
  }
  ::close(fd);
  return found;
}

std::string native_btf_for(const std::string& host_root, const std::string& boot_dir, const std::string& release) {
  for (std::string p : {"/usr/lib/debug/boot/vmlinux-" + release, "/lib/modules/" + release + "/vmlinux",
                        "/usr/lib/modules/" + release + "/vmlinux", boot_dir + "/vmlinux-" + release}) {
    std::string full = host_path(host_root, p);
    if (elf_has_btf(full)) return full;
  }
  return {};
}

}  // namespace btfd::upgrade
