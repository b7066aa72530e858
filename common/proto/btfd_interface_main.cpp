// SPDX-License-Identifier: LGPL-2.1-or-later
// btfd-interface: prints what is made of the interface table (not installed).
// usage: btfd-interface --varlink NAME | --markdown-methods | --go
#include <cstdio>
#include <string>
#include <string_view>

#include "proto/interface.hpp"

int main(int argc, char** argv) {
  using namespace btfd::proto::idl;
  std::string_view what = argc > 1 ? argv[1] : "";
  std::string out;
  if (what == "--varlink" && argc == 3) {
    const Interface* i = find_interface(argv[2]);
    if (!i) {
      std::fprintf(stderr, "btfd-interface: no interface \"%s\"\n", argv[2]);
      return 1;
    }
    out = describe(*i);
  } else if (what == "--markdown-methods" && argc == 2) {
    out = markdown_methods();
  } else if (what == "--go" && argc == 2) {
    out = go_constants();
  } else {
    std::fprintf(stderr, "usage: btfd-interface --varlink NAME | --markdown-methods | --go\n");
    return 2;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
