// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/btf_compat.hpp"

#include <linux/btf.h>

#include <bpf/btf.h>

#include <charconv>
#include <climits>
#include <cstring>

#include "btf/btf_validate.hpp"

namespace btfd::btf {

namespace {

// The one table: which kernel release first accepted each BTF feature
// (kernel/bpf/btf.c; pahole and clang emit them from then on). A level X.Y
// understands every row at or below it.
struct FeatureRow {
  uint32_t feature;
  unsigned major, minor;
  const char* what;
};
constexpr FeatureRow kFeatures[] = {
    {kVarDatasec, 5, 2, "BTF_KIND_VAR and BTF_KIND_DATASEC"},
    {kFuncLinkage, 5, 6, "global and extern FUNC linkage"},
    {kFloat, 5, 13, "BTF_KIND_FLOAT"},
    {kDeclTag, 5, 16, "BTF_KIND_DECL_TAG"},
    {kTypeTag, 5, 17, "BTF_KIND_TYPE_TAG"},
    {kEnum64, 6, 0, "BTF_KIND_ENUM64 and signed enums (ENUM kind_flag)"},
    {kTagKindFlag, 6, 15, "attribute tags (DECL_TAG and TYPE_TAG kind_flag)"},
};
// BTF_KIND_FUNC/FUNC_PROTO and the struct/union/fwd kind_flag (4.20-5.0)
// are the floor: a reader without them predates CO-RE.
constexpr unsigned kOldestMajor = 5, kOldestMinor = 0;

// Readers people have, by the newest BTF they parse.
struct Alias {
  const char* name;
  unsigned major, minor;
};
constexpr Alias kAliases[] = {
    // cilium/ebpf 0.9.x (Debian 12's golang-github-cilium-ebpf-dev 0.9.1):
    // btf/types.go knows the kinds up to FLOAT, nothing after.
    {"cilium-ebpf-0.9", 5, 13},
};

constexpr size_t kMaxLevelName = 64;

uint32_t features_of(unsigned major, unsigned minor) {
  uint32_t f = 0;
  for (const auto& row : kFeatures)
    if (major > row.major || (major == row.major && minor >= row.minor)) f |= row.feature;
  return f;
}

Error unknown_level(std::string_view name, const std::string& why) {
  std::string shown(name.substr(0, kMaxLevelName));
  return make_error(Errc::invalid_argument,
                    "unknown compatibility level \"" + shown + "\"" + why + "; known: " + compat_level_names());
}

// "X.Y" then the end or a release's rest ("5.10.0-28-amd64", "6.1.0+").
bool parse_version(std::string_view s, unsigned* major, unsigned* minor) {
  const char* p = s.data();
  const char* end = s.data() + s.size();
  auto r = std::from_chars(p, end, *major);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return false;
  r = std::from_chars(r.ptr + 1, end, *minor);
  if (r.ec != std::errc()) return false;
  return r.ptr == end || *r.ptr == '.' || *r.ptr == '-' || *r.ptr == '+';
}

std::string version_name(unsigned major, unsigned minor) { return std::to_string(major) + "." + std::to_string(minor); }

}  // namespace

std::string compat_level_names() {
  std::string s = version_name(kOldestMajor, kOldestMinor) + " or any later kernel release X.Y (features begin at";
  for (const auto& row : kFeatures) s += " " + version_name(row.major, row.minor);
  s += "); aliases:";
  for (const auto& a : kAliases) s += std::string(" ") + a.name + " (" + version_name(a.major, a.minor) + ")";
  return s;
}

Result<CompatLevel> parse_compat_level(std::string_view name) {
  if (name.size() > kMaxLevelName) return unknown_level(name, " (longer than " + std::to_string(kMaxLevelName) + " bytes)");
  for (const auto& a : kAliases)
    if (name == a.name) return CompatLevel{a.name, features_of(a.major, a.minor)};
  unsigned major = 0, minor = 0;
  if (!parse_version(name, &major, &minor)) return unknown_level(name, "");
  if (major < kOldestMajor || (major == kOldestMajor && minor < kOldestMinor))
    return unknown_level(name, " (older than " + version_name(kOldestMajor, kOldestMinor) + ", which BTF for CO-RE needs)");
  return CompatLevel{version_name(major, minor), features_of(major, minor)};
}

std::string compat_missing(const CompatLevel& level) {
  std::string s;
  for (const auto& row : kFeatures)
    if (!(level.features & row.feature)) s += (s.empty() ? "" : ", ") + std::string(row.what);
  return s;
}

namespace {

// Writes records into the output, each one record, so ids stay.
class Emitter {
 public:
  explicit Emitter(uint8_t* at) : at_(at) {}
  void type(uint32_t name_off, uint32_t kind, uint32_t vlen, bool kflag, uint32_t size_or_type) {
    struct btf_type t;
    t.name_off = name_off;
    t.info = (kflag ? 1u << 31 : 0u) | (kind << 24) | (vlen & 0xffffu);
    t.size = size_or_type;
    put(&t, sizeof(t));
  }
  void u32(uint32_t v) { put(&v, sizeof(v)); }
  void put(const void* p, size_t n) {
    std::memcpy(at_, p, n);
    at_ += n;
  }
  // The 1-byte INT libbpf also uses as a stand-in: no encoding, 8 bits.
  void int_stand_in(uint32_t name_off) {
    type(name_off, BTF_KIND_INT, 0, false, 1);
    u32(8);  // BTF_INT_BITS 8, offset 0, no encoding
  }
  uint8_t* at() const { return at_; }

 private:
  uint8_t* at_;
};

// libbpf reads an ENUM's value sign-extended from 32 bits (relo_core), an
// ENUM64's as its 64 bits: a value an ENUM can carry reads back the same.
bool fits_enum32(const struct btf_enum64* e) {
  const auto v = static_cast<int64_t>((uint64_t{e->val_hi32} << 32) | e->val_lo32);
  return v >= INT32_MIN && v <= INT32_MAX;
}

}  // namespace

Result<std::vector<uint8_t>> rewrite_for_level(std::span<const uint8_t> bytes, const CompatLevel& level,
                                               CompatStats* stats) {
  BTFD_TRY(const BtfLayout l, validate_btf(bytes));
  CompatStats st;
  const uint32_t f = level.features;
  // Every stand-in is at most as large as what it replaces: the input's size
  // bounds the output, allocated once.
  std::vector<uint8_t> out(sizeof(struct btf_header) + l.type_len + l.str_len);
  Emitter e(out.data() + sizeof(struct btf_header));
  const uint8_t* const types_start = e.at();
  const auto count = static_cast<uint32_t>(l.offsets.size());
  for (uint32_t id = 1; id < count; ++id) {
    const auto* t = validate_detail::type_at(l, id);
    const uint32_t kind = btf_kind(t);
    const bool kflag = btf_kflag(t);
    const size_t size = btf_record_size(t);
    bool changed = true;
    if (kind == BTF_KIND_VAR && !(f & kVarDatasec)) {
      e.int_stand_in(t->name_off);
    } else if (kind == BTF_KIND_DATASEC && !(f & kVarDatasec)) {
      e.type(0, BTF_KIND_STRUCT, 0, false, t->size);
    } else if (kind == BTF_KIND_FUNC && btf_vlen(t) != BTF_FUNC_STATIC && !(f & kFuncLinkage)) {
      e.type(t->name_off, BTF_KIND_FUNC, BTF_FUNC_STATIC, false, t->type);
    } else if (kind == BTF_KIND_FLOAT && !(f & kFloat)) {
      // A struct named "double" is no C type; anonymous, as libbpf's.
      e.type(0, BTF_KIND_STRUCT, 0, false, t->size);
    } else if (kind == BTF_KIND_DECL_TAG && (!(f & kDeclTag) || (kflag && !(f & kTagKindFlag)))) {
      e.int_stand_in(0);
    } else if (kind == BTF_KIND_TYPE_TAG && (!(f & kTypeTag) || (kflag && !(f & kTagKindFlag)))) {
      e.type(0, BTF_KIND_CONST, 0, false, t->type);
    } else if (kind == BTF_KIND_ENUM && kflag && !(f & kEnum64)) {
      e.type(t->name_off, BTF_KIND_ENUM, btf_vlen(t), false, t->size);
      e.put(btf_enum(t), btf_vlen(t) * sizeof(struct btf_enum));
    } else if (kind == BTF_KIND_ENUM64 && !(f & kEnum64)) {
      const struct btf_enum64* v = btf_enum64(t);
      const uint16_t vlen = btf_vlen(t);
      uint32_t kept = 0;
      for (uint16_t i = 0; i < vlen; ++i) kept += fits_enum32(&v[i]);
      st.enumerators_dropped += vlen - kept;
      e.type(t->name_off, BTF_KIND_ENUM, kept, false, t->size);
      for (uint16_t i = 0; i < vlen; ++i) {
        if (!fits_enum32(&v[i])) continue;
        struct btf_enum out_val{v[i].name_off, static_cast<__s32>(v[i].val_lo32)};
        e.put(&out_val, sizeof(out_val));
      }
    } else {
      e.put(t, size);
      changed = false;
    }
    st.types_rewritten += changed;
  }
  struct btf_header hdr{};
  hdr.magic = BTF_MAGIC;
  hdr.version = BTF_VERSION;
  hdr.hdr_len = sizeof(hdr);
  hdr.type_off = 0;
  hdr.type_len = static_cast<uint32_t>(e.at() - types_start);
  hdr.str_off = hdr.type_len;
  hdr.str_len = l.str_len;
  std::memcpy(out.data(), &hdr, sizeof(hdr));
  e.put(l.strs, l.str_len);
  out.resize(static_cast<size_t>(e.at() - out.data()));
  if (stats) *stats = st;
  return out;
}

}  // namespace btfd::btf
