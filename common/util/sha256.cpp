// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/sha256.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <vector>

namespace btfd {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation failure of a few bytes is not an expected failure.
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("libcrypto: cannot initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const uint8_t> data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}
void Sha256::update(std::string_view text) { EVP_DigestUpdate(impl_->ctx, text.data(), text.size()); }

Digest Sha256::finish() {
  Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  return d;
}

Digest sha256(std::span<const uint8_t> data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::string sha256_hex(std::span<const uint8_t> data) { return to_hex(sha256(data)); }

Result<Digest> sha256_fd(int fd) {
  Sha256 h;
  // A chunk that stays in the CPU's cache between the read and the hash, and
  // is never zeroed: the read overwrites it.
  constexpr size_t kChunk = 64 << 10;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kChunk);
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.get(), kChunk, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "read for sha256");
    }
    if (n == 0) break;
    h.update(std::span(buf.get(), static_cast<size_t>(n)));
    off += n;
  }
  return h.finish();
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

namespace {
int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool is_hex_digest(std::string_view text) noexcept {
  if (text.size() != 64) return false;
  for (char c : text)
    if (hexval(c) < 0) return false;
  return true;
}

Result<Digest> digest_from_hex(std::string_view hex) {
  if (!is_hex_digest(hex)) return make_error(Errc::invalid_argument, "not a sha256 hex digest: \"" + std::string(hex.substr(0, 80)) + "\"");
  Digest d{};
  for (size_t i = 0; i < 32; ++i) d[i] = static_cast<uint8_t>(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  return d;
}

}  // namespace btfd
