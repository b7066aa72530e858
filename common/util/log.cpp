// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace btfd::log {
namespace {

std::atomic<Level> g_level{Level::info};

// JOURNAL_STREAM is "dev:ino" of the journal socket stderr is connected to.
bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) < 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

const char* level_word(Level l) {
  switch (l) {
    case Level::error: return "error";
    case Level::warning: return "warning";
    case Level::notice: return "notice";
    case Level::info: return "info";
    case Level::debug: return "debug";
  }
  return "?";
}

}  // namespace

void set_level(Level l) noexcept { g_level.store(l, std::memory_order_relaxed); }
Level level() noexcept { return g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, Level* out) noexcept {
  static constexpr std::pair<std::string_view, Level> names[] = {
      {"error", Level::error}, {"err", Level::error},       {"warning", Level::warning},
      {"warn", Level::warning}, {"notice", Level::notice},  {"info", Level::info},
      {"debug", Level::debug},
  };
  for (const auto& [name, l] : names) {
    if (name == text) {
      *out = l;
      return true;
    }
  }
  return false;
}

void vwrite(Level l, const char* fmt, va_list ap) {
  static const bool journal = stderr_is_journal();
  char buf[4096];
  int n = journal ? std::snprintf(buf, sizeof buf, "<%d>", static_cast<int>(l))
                  : std::snprintf(buf, sizeof buf, "btfd[%s]: ", level_word(l));
  if (n < 0) return;
  int m = std::vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, fmt, ap);
  if (m < 0) return;
  size_t len = std::min(sizeof buf - 2, static_cast<size_t>(n) + static_cast<size_t>(m));
  buf[len++] = '\n';
  // One write(2) per line keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, buf, len);
  (void)ignored;
}

void write(Level l, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwrite(l, fmt, ap);
  va_end(ap);
}

}  // namespace btfd::log
