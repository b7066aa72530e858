// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/sha256.hpp"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <vector>

namespace btfd {

// libcrypto is loaded the first time something is hashed, not at exec: it
// is the largest library btfd's programs use, and relocating it costs a
// short-lived btfctl (and every agent linking libbtfd) ~125 page faults and
// 2-3 ms whether or not it ever hashes. The same library, the same code (SHA
// extensions where the CPU has them); the packages depend on it by name, as
// nothing else records this dependency.
namespace {

#define BTFD_STR2(x) #x
#define BTFD_STR(x) BTFD_STR2(x)
constexpr const char* kLibcrypto = "libcrypto.so." BTFD_STR(OPENSSL_VERSION_MAJOR);

struct Crypto {
  decltype(&EVP_MD_CTX_new) ctx_new = nullptr;
  decltype(&EVP_MD_CTX_free) ctx_free = nullptr;
  decltype(&EVP_DigestInit_ex) init = nullptr;
  decltype(&EVP_DigestUpdate) update = nullptr;
  decltype(&EVP_DigestFinal_ex) final = nullptr;
  decltype(&EVP_Digest) digest = nullptr;
  const EVP_MD* md = nullptr;
  std::string error;  // why it could not be loaded, or ""
};

template <typename F>
bool bind_symbol(void* lib, const char* name, F* fn, std::string* error) {
  *fn = reinterpret_cast<F>(::dlsym(lib, name));
  if (!*fn) *error = std::string(kLibcrypto) + " has no " + name;
  return *fn != nullptr;
}

Crypto load() {
  Crypto c;
  // Never unloaded: digests may be taken until exit.
  void* lib = ::dlopen(kLibcrypto, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!lib) {
    const char* why = ::dlerror();
    c.error = std::string("SHA-256 needs ") + kLibcrypto + " (OpenSSL), which cannot be loaded: " + (why ? why : "?");
    return c;
  }
  decltype(&EVP_sha256) sha = nullptr;
  if (bind_symbol(lib, "EVP_MD_CTX_new", &c.ctx_new, &c.error) && bind_symbol(lib, "EVP_MD_CTX_free", &c.ctx_free, &c.error) &&
      bind_symbol(lib, "EVP_DigestInit_ex", &c.init, &c.error) && bind_symbol(lib, "EVP_DigestUpdate", &c.update, &c.error) &&
      bind_symbol(lib, "EVP_DigestFinal_ex", &c.final, &c.error) && bind_symbol(lib, "EVP_Digest", &c.digest, &c.error) &&
      bind_symbol(lib, "EVP_sha256", &sha, &c.error))
    c.md = sha();
  return c;
}

// Loaded once, thread-safely; an installation without libcrypto is not an
// expected failure of a call (the packages depend on it): it throws, and
// programs check sha256_available() first to say so at start.
const Crypto& crypto() {
  static const Crypto c = load();
  if (!c.md) throw std::runtime_error(c.error);
  return c;
}

}  // namespace

Status sha256_available() {
  try {
    (void)crypto();
    return {};
  } catch (const std::exception& e) {
    return make_error(Errc::unsupported, e.what());
  }
}

struct Sha256::Impl {
  const Crypto& c = crypto();
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { c.ctx_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = impl_->c.ctx_new();
  // Allocation failure of a few bytes is not an expected failure.
  if (!impl_->ctx || impl_->c.init(impl_->ctx, impl_->c.md, nullptr) != 1)
    throw std::runtime_error("libcrypto: cannot initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const uint8_t> data) { impl_->c.update(impl_->ctx, data.data(), data.size()); }
void Sha256::update(std::string_view text) { impl_->c.update(impl_->ctx, text.data(), text.size()); }

Digest Sha256::finish() {
  Digest d{};
  unsigned int len = 0;
  impl_->c.final(impl_->ctx, d.data(), &len);
  impl_->c.init(impl_->ctx, impl_->c.md, nullptr);
  return d;
}

Digest sha256(std::span<const uint8_t> data) {
  const Crypto& c = crypto();
  Digest d{};
  unsigned int len = 0;
  c.digest(data.data(), data.size(), d.data(), &len, c.md, nullptr);
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
