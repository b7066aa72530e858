// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <fcntl.h>

#include <thread>

#include "support/temp_dir.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

using namespace btfd;

static std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST_CASE("sha256 matches the FIPS 180-2 vectors") {
  CHECK(sha256_hex(bytes("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex(bytes("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update(bytes("ab"));
  h.update(bytes("c"));
  CHECK(to_hex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256_fd hashes a file larger than its buffer") {
  test::TempDir dir;
  std::vector<uint8_t> data(3 * (1 << 20) + 17);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31);
  REQUIRE(write_file_atomic(dir / "f", data).ok());
  auto fd = open_file(dir / "f", O_RDONLY);
  REQUIRE(fd.ok());
  auto d = sha256_fd(fd->get());
  REQUIRE(d.ok());
  CHECK(*d == sha256(data));
}

TEST_CASE("hex digests round-trip and reject junk") {
  std::string hex = sha256_hex(bytes("abc"));
  auto d = digest_from_hex(hex);
  REQUIRE(d.ok());
  CHECK(to_hex(*d) == hex);
  CHECK_FALSE(digest_from_hex("abc").ok());
  CHECK_FALSE(is_hex_digest(std::string(63, 'a') + "g"));
  CHECK(is_hex_digest(std::string(64, 'F')));
}

TEST_CASE("libcrypto is loaded at the first digest, once, from any thread") {
  // Threads that race to the first digest all get the same right answer.
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) threads.emplace_back([&got, i] { got[i] = sha256_hex(bytes("abc")); });
  for (auto& t : threads) t.join();
  for (const auto& g : got) CHECK(g == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_available().ok());
}
