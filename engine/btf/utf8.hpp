// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// BTF names are bytes, not text: neither libbpf nor the kernel requires them to
// be UTF-8, and a hostile kernel or object can name a type "task_struc\xff".
// JSON needs UTF-8 (nlohmann::json::dump() throws on anything else), so every
// name that reaches a report goes through here first.

#include <string>
#include <string_view>

namespace btfd::btf {

// s with each byte that does not begin a well-formed UTF-8 sequence (overlong
// forms, surrogates and code points past U+10FFFF are not well formed)
// replaced by U+FFFD. Valid input comes back unchanged.
std::string valid_utf8(std::string_view s);

// valid_utf8(s) with every control character replaced by '?': C0, DEL, C1 and
// the bidi/invisible format controls. For client-chosen text that other users
// see printed (object names in ListKernels).
std::string printable_utf8(std::string_view s);

// valid_utf8 of at most the first max_bytes of s (cut where a character
// begins), with "..." when cut: for error messages that quote a client's
// name, which may be megabytes long.
std::string quoted_part(std::string_view s, size_t max_bytes = 128);

// The bytes nlohmann::json::dump() writes for s, quotes included, s being
// valid UTF-8 (ensure_ascii off, as btfd dumps): what a report's string costs.
size_t json_string_bytes(std::string_view s);

}  // namespace btfd::btf
