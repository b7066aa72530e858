// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the SHA256SUMS text a mirror serves, and btfd's cached copy
// of it: the digest lookup of one entry (attempt.hpp's find_checksum), the
// cache file's parser (parse_sums_cache) and an archive source's listing
// (archive_index's parse_archive_sums), on arbitrary bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "hub/archive_index.hpp"
#include "hub/attempt.hpp"
#include "util/sha256.hpp"

namespace {

bool lowercase_digest(std::string_view hex) {
  return hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sums = btfd::hub::parse_archive_sums(text);
  for (const auto& [path, hex] : sums) {
    if (!lowercase_digest(hex) || !btfd::hub::archive_entry_from_path(path)) __builtin_trap();
    // The two parsers of one format agree: the daemon's lookup gives the
    // listing's digest, or none when an earlier line for the path carries no
    // valid digest (the listing skips that line, the lookup stops at it).
    auto found = btfd::hub::find_checksum(text, path);
    if (found && *found != hex) __builtin_trap();
  }
  // The entry to look up: the input's first line, so the fuzzer can make it match.
  std::string_view entry = text.substr(0, text.find('\n'));
  if (auto found = btfd::hub::find_checksum(text, entry); found && !lowercase_digest(*found)) __builtin_trap();
  // The cache file: what parses is exactly what format_sums_cache writes back.
  if (auto cached = btfd::hub::parse_sums_cache(text)) {
    if (cached->first.empty() || btfd::hub::format_sums_cache(cached->first, cached->second) != text) __builtin_trap();
  }
  return 0;
}
