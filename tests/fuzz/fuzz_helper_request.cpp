// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: btfd-fetch's reader of the request btfd writes to its
// stdin. What is read must be written back to the same document.
#include <cstdint>
#include <string_view>

#include "hub/fetch_helper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto req = btfd::hub::parse_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!req) return 0;
  // What was read as JSON is UTF-8, so it can always be written again.
  auto text = btfd::hub::format_request(*req);
  if (!text) __builtin_trap();
  auto back = btfd::hub::parse_request(*text);
  if (!back) __builtin_trap();
  auto again = btfd::hub::format_request(*back);
  if (!again || *again != *text) __builtin_trap();
  return 0;
}
