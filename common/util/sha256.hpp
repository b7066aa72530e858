// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// SHA-256 (libcrypto's EVP, which uses the CPU's SHA extensions where present;
// libcrypto is loaded at the first digest, see sha256.cpp).

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace btfd {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const uint8_t> data);
  void update(std::string_view text);
  Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether libcrypto can be loaded: programs ask at start, so that a broken
// installation is named there and not by the first call that hashes.
Status sha256_available();

Digest sha256(std::span<const uint8_t> data);
std::string sha256_hex(std::span<const uint8_t> data);
// Hashes a whole file from offset 0 without moving its file position.
Result<Digest> sha256_fd(int fd);

std::string to_hex(std::span<const uint8_t> bytes);
// Accepts exactly 64 lowercase or uppercase hex digits.
Result<Digest> digest_from_hex(std::string_view hex);
bool is_hex_digest(std::string_view text) noexcept;

}  // namespace btfd
