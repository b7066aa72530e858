// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/utf8.hpp"

#include <cstdint>

namespace btfd::btf {
namespace {

// Length of the well-formed sequence at s[i] (Unicode table 3-7), or 0.
size_t sequence_len(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<uint8_t>(s[i + k]) : 0; };
  auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xbf) { return at(k) >= lo && at(k) <= hi; };
  const uint8_t c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;  // no surrogates
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

}  // namespace

namespace {
// Code point of a well-formed sequence of length n at s[i].
uint32_t decode(std::string_view s, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k])); };
  if (n == 1) return b(0);
  if (n == 2) return (b(0) & 0x1f) << 6 | (b(1) & 0x3f);
  if (n == 3) return (b(0) & 0x0f) << 12 | (b(1) & 0x3f) << 6 | (b(2) & 0x3f);
  return (b(0) & 0x07) << 18 | (b(1) & 0x3f) << 12 | (b(2) & 0x3f) << 6 | (b(3) & 0x3f);
}
// Characters that steer a terminal or reorder text rather than show: C0, DEL,
// C1 (U+009B is a one-byte CSI on many terminals), and Unicode's bidi and
// invisible format controls.
bool is_control(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}
// s with ill-formed bytes as U+FFFD and, when asked, controls as '?'.
std::string rebuild(std::string_view s, bool replace_controls) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = sequence_len(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    if (replace_controls && is_control(decode(s, i, n))) out += '?';
    else out.append(s, i, n);
    i += n;
  }
  return out;
}
}  // namespace

std::string valid_utf8(std::string_view s) { return rebuild(s, false); }

std::string printable_utf8(std::string_view s) { return rebuild(s, true); }

std::string quoted_part(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return valid_utf8(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xc0) == 0x80) --cut;
  return valid_utf8(s.substr(0, cut)) + "...";
}

size_t json_string_bytes(std::string_view s) {
  size_t n = 2;
  for (char ch : s) {
    auto c = static_cast<uint8_t>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') n += 2;
    else if (c < 0x20) n += 6;  // \u00XX
    else ++n;
  }
  return n;
}

}  // namespace btfd::btf
