// SPDX-License-Identifier: GPL-2.0-or-later
// The bundle module: what the writer produces the shared reader gives back
// (identical content stored once, lookups by kernel, deterministic bytes), and
// hostile bundles — damaged bytes, or well-sealed files that lie — are refused
// with an error naming the problem, by parse() or, for a blob, when it is read.
#include <doctest/doctest.h>

#include <bpf/btf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "bundle/bundle_check.hpp"
#include "bundle/bundle_reader.hpp"
#include "bundle/bundle_writer.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::bundle;

namespace {

// A small valid BTF: one int type named `name` of `bytes` bytes.
std::vector<uint8_t> tiny_btf(const char* name, int bytes = 4) {
  struct btf* b = btf__new_empty();
  REQUIRE(b);
  REQUIRE(btf__add_int(b, name, bytes, BTF_INT_SIGNED) > 0);
  uint32_t size = 0;
  const void* raw = btf__raw_data(b, &size);
  std::vector<uint8_t> out(static_cast<const uint8_t*>(raw), static_cast<const uint8_t*>(raw) + size);
  btf__free(b);
  return out;
}

Digest digest_of(const char* text) { return sha256(std::span(reinterpret_cast<const uint8_t*>(text), std::strlen(text))); }

std::vector<uint8_t> sample_bundle() {
  BundleBuilder b({digest_of("obj-b"), digest_of("obj-a"), digest_of("obj-a")});
  REQUIRE(b.add({"ubuntu", "20.04", "x86_64", "5.4.0-26-generic"}, tiny_btf("a")));
  REQUIRE(b.add({"debian", "10", "x86_64", "4.19.0-17-amd64"}, tiny_btf("b")));
  REQUIRE(b.add({"ubuntu", "20.04", "x86_64", "5.4.0-27-generic"}, tiny_btf("a")));  // same content as -26
  auto out = b.finish();
  REQUIRE(out);
  return std::move(out).value();
}

// Recomputes the index and header checksums, so a test can make a bundle
// whose checksums hold but whose content lies.
void reseal(std::vector<uint8_t>& bytes) {
  uint64_t index_size = load_u64(bytes.data() + hdr::index_size);
  Digest i = sha256(std::span<const uint8_t>(bytes.data() + kHeaderSize, index_size));
  std::memcpy(bytes.data() + hdr::index_sha256, i.data(), 32);
  Digest h = sha256(std::span<const uint8_t>(bytes.data(), hdr::header_sha256));
  std::memcpy(bytes.data() + hdr::header_sha256, h.data(), 32);
}

std::string refusal(const std::vector<uint8_t>& bytes) {
  auto v = BundleView::parse(bytes);
  if (v) return "";
  return v.error().message;
}

// Offsets of the index tables in sample_bundle() (2 objects, 2 blobs, 3 kernels).
constexpr size_t kBlobTable = kHeaderSize + 2 * kObjectRecord;
constexpr size_t kKernelTable = kBlobTable + 2 * kBlobRecord;

}  // namespace

TEST_CASE("a bundle round-trips: kernels found by key, identical content stored once") {
  auto bytes = sample_bundle();
  auto v = BundleView::parse(bytes);
  REQUIRE_MESSAGE(v, (v ? "" : v.error().message));
  CHECK(v->kernel_count() == 3);
  CHECK(v->blob_count() == 2);
  CHECK(v->object_count() == 2);
  CHECK(v->object(0) < v->object(1));
  auto a = v->find({"ubuntu", "20.04", "x86_64", "5.4.0-26-generic"});
  auto a2 = v->find({"ubuntu", "20.04", "x86_64", "5.4.0-27-generic"});
  auto b = v->find({"debian", "10", "x86_64", "4.19.0-17-amd64"});
  REQUIRE(a);
  REQUIRE(a2);
  REQUIRE(b);
  CHECK(v->kernel_blob(*a) == v->kernel_blob(*a2));
  CHECK(v->kernel_blob(*a) != v->kernel_blob(*b));
  auto blob = v->blob_verified(v->kernel_blob(*a));
  REQUIRE(blob);
  auto want = tiny_btf("a");
  CHECK(std::vector<uint8_t>(blob->begin(), blob->end()) == want);
  CHECK_FALSE(v->find({"ubuntu", "20.04", "x86_64", "5.4.0-28-generic"}));
  CHECK_FALSE(v->find({"ubuntu", "20.04", "arm64", "5.4.0-26-generic"}));
  CHECK(check_all_blobs(*v));
}

TEST_CASE("the same kernels give the same bytes in any order") {
  BundleBuilder b({digest_of("obj-a"), digest_of("obj-b")});
  REQUIRE(b.add({"ubuntu", "20.04", "x86_64", "5.4.0-27-generic"}, tiny_btf("a")));
  REQUIRE(b.add({"ubuntu", "20.04", "x86_64", "5.4.0-26-generic"}, tiny_btf("a")));
  REQUIRE(b.add({"debian", "10", "x86_64", "4.19.0-17-amd64"}, tiny_btf("b")));
  auto out = b.finish();
  REQUIRE(out);
  CHECK(*out == sample_bundle());
}

TEST_CASE("the writer refuses a kernel twice and names that could leave the layout") {
  BundleBuilder b({});
  REQUIRE(b.add({"ubuntu", "20.04", "x86_64", "r"}, tiny_btf("a")));
  auto twice = b.add({"ubuntu", "20.04", "x86_64", "r"}, tiny_btf("b"));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message.find("added twice") != std::string::npos);
  for (const char* bad : {"", "..", "a/b", "x\ny"}) {
    auto st = b.add({"ubuntu", bad, "x86_64", "r2"}, tiny_btf("a"));
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("version") != std::string::npos);
  }
  CHECK_FALSE(b.add({"ubuntu", "20.04", "x86_64", "r3"}, {}));
}

TEST_CASE("an empty bundle is valid and finds nothing") {
  auto out = BundleBuilder({}).finish();
  REQUIRE(out);
  auto v = BundleView::parse(*out);
  REQUIRE(v);
  CHECK(v->kernel_count() == 0);
  CHECK_FALSE(v->find({"a", "b", "c", "d"}));
}

TEST_CASE("any damaged byte in the header or index is refused by a checksum") {
  auto good = sample_bundle();
  auto v = BundleView::parse(good);
  REQUIRE(v);
  size_t index_end = v->index_end();
  for (size_t i = 0; i < index_end; ++i) {
    auto bad = good;
    bad[i] ^= 0x40;
    std::string why = refusal(bad);
    INFO("byte " << i);
    REQUIRE_FALSE(why.empty());
    CHECK(why.rfind("bundle: ", 0) == 0);
  }
}

TEST_CASE("a damaged blob is refused when read, and by the whole-bundle check") {
  auto bytes = sample_bundle();
  auto v0 = BundleView::parse(bytes);
  REQUIRE(v0);
  BlobRef b = v0->blob(1);
  bytes[b.offset + b.size - 1] ^= 1;
  auto v = BundleView::parse(bytes);
  REQUIRE(v);  // the index is intact: other kernels still read
  CHECK(v->blob_verified(0));
  auto r = v->blob_verified(1);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
  CHECK(r.error().message.find("does not match its SHA-256") != std::string::npos);
  auto all = check_all_blobs(*v);
  REQUIRE_FALSE(all);
  CHECK(all.error().message.find("SHA-256") != std::string::npos);
}

TEST_CASE("truncated, padded and foreign files are refused") {
  auto good = sample_bundle();
  CHECK(refusal({}).find("shorter than its header") != std::string::npos);
  auto cut = good;
  cut.resize(good.size() - 1);
  CHECK(refusal(cut).find("truncated or padded") != std::string::npos);
  auto padded = good;
  padded.push_back(0);
  CHECK(refusal(padded).find("truncated or padded") != std::string::npos);
  auto foreign = good;
  std::memcpy(foreign.data(), "BTFDBNDX", 8);
  CHECK(refusal(foreign).find("bad magic") != std::string::npos);
  auto newer = good;
  store_u32(newer.data() + hdr::version, 2);
  reseal(newer);
  auto r = BundleView::parse(newer);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unsupported);
}

TEST_CASE("well-sealed bundles that lie are refused with a named error") {
  auto good = sample_bundle();
  struct Lie {
    const char* name;
    void (*edit)(std::vector<uint8_t>&);
    const char* expect;
  };
  const Lie lies[] = {
      {"blob past the end", [](auto& b) { store_u64(b.data() + kBlobTable + kBlobRecord, b.size()); }, "misplaced"},
      {"blob overlapping the index", [](auto& b) { store_u64(b.data() + kBlobTable, kHeaderSize); }, "misplaced"},
      {"huge blob", [](auto& b) { store_u64(b.data() + kBlobTable + 8, 1ull << 40); }, "more than"},
      {"empty blob", [](auto& b) { store_u64(b.data() + kBlobTable + 8, 0); }, "is empty"},
      {"same digest twice",
       [](auto& b) { std::memcpy(b.data() + kBlobTable + kBlobRecord + 16, b.data() + kBlobTable + 16, 32); },
       "stored twice"},
      {"kernel names a missing blob", [](auto& b) { store_u32(b.data() + kKernelTable + 16, 7); }, "does not exist"},
      {"string outside the table", [](auto& b) { store_u32(b.data() + kKernelTable + 12, 1u << 30); },
       "outside the string table"},
      {"kernels out of order",
       [](auto& b) {
         uint8_t tmp[kKernelRecord];
         std::memcpy(tmp, b.data() + kKernelTable, kKernelRecord);
         std::memcpy(b.data() + kKernelTable, b.data() + kKernelTable + kKernelRecord, kKernelRecord);
         std::memcpy(b.data() + kKernelTable + kKernelRecord, tmp, kKernelRecord);
       },
       "not sorted"},
      {"objects out of order",
       [](auto& b) {
         uint8_t tmp[kObjectRecord];
         std::memcpy(tmp, b.data() + kHeaderSize, kObjectRecord);
         std::memcpy(b.data() + kHeaderSize, b.data() + kHeaderSize + kObjectRecord, kObjectRecord);
         std::memcpy(b.data() + kHeaderSize + kObjectRecord, tmp, kObjectRecord);
       },
       "object digests"},
      {"blob nobody names", [](auto& b) { store_u32(b.data() + kKernelTable + 16, 1 - load_u32(b.data() + kKernelTable + 16)); },
       "named by no kernel"},
      {"reserved field", [](auto& b) { store_u32(b.data() + kKernelTable + 20, 1); }, "reserved"},
      {"claims many kernels", [](auto& b) { store_u32(b.data() + hdr::kernel_count, 0xffffffffu); }, "too many kernels"},
      {"index size lies", [](auto& b) { store_u64(b.data() + hdr::index_size, 8); }, "index size"},
      {"flags", [](auto& b) { store_u32(b.data() + hdr::flags, 1); }, "flags"},
  };
  for (const auto& lie : lies) {
    auto bad = good;
    lie.edit(bad);
    reseal(bad);
    std::string why = refusal(bad);
    INFO(lie.name << ": " << why);
    CHECK(why.find(lie.expect) != std::string::npos);
  }
  // A blob that hashes right but is not BTF: parse() takes it, the whole check does not.
  BundleBuilder b({});
  REQUIRE(b.add({"ubuntu", "20.04", "x86_64", "r"}, std::vector<uint8_t>(64, 0xab)));
  auto junk = b.finish();
  REQUIRE(junk);
  auto v = BundleView::parse(*junk);
  REQUIRE(v);
  auto st = check_all_blobs(*v);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("not valid BTF") != std::string::npos);
}

TEST_CASE("read_index and read_blob give what parse gives, from a file") {
  auto bytes = sample_bundle();
  int fd = memfd_create("bundle", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  UniqueFd owner(fd);
  REQUIRE(write_all(fd, bytes));
  auto prefix = read_index(fd, bytes.size());
  REQUIRE(prefix);
  auto v = BundleView::parse_index(*prefix, bytes.size());
  REQUIRE(v);
  auto k = v->find({"debian", "10", "x86_64", "4.19.0-17-amd64"});
  REQUIRE(k);
  auto blob = read_blob(fd, *v, v->kernel_blob(*k));
  REQUIRE(blob);
  CHECK(*blob == tiny_btf("b"));
  // The file changed under the reader: the blob no longer matches.
  uint8_t x = 0x55;
  BlobRef ref = v->blob(v->kernel_blob(*k));
  REQUIRE(::pwrite(fd, &x, 1, static_cast<off_t>(ref.offset)) == 1);
  auto changed = read_blob(fd, *v, v->kernel_blob(*k));
  REQUIRE_FALSE(changed);
  CHECK(changed.error().code == Errc::corrupt);
  // A header claiming an absurd index is refused before anything is allocated.
  auto huge = bytes;
  store_u32(huge.data() + hdr::strings_size, 0xfffffff0u);
  REQUIRE(::pwrite(fd, huge.data(), kHeaderSize, 0) == static_cast<ssize_t>(kHeaderSize));
  auto r = read_index(fd, bytes.size());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::too_large);
}
