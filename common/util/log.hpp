// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Leveled logging to stderr. When stderr is the journal (JOURNAL_STREAM matches),
// lines carry sd-daemon "<N>" priority prefixes so journald records the level.
// Library code does not log errors it returns; the caller that decides logs once.

#include <cstdarg>
#include <string_view>

namespace btfd::log {

// syslog(3) priorities, as the journal understands them.
enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_level(Level level) noexcept;
Level level() noexcept;
bool parse_level(std::string_view text, Level* out) noexcept;
inline bool enabled(Level l) noexcept { return static_cast<int>(l) <= static_cast<int>(level()); }

// Writes one line atomically (a single write(2)), safe from several threads.
void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void vwrite(Level level, const char* fmt, va_list ap);

}  // namespace btfd::log

// The macros skip argument evaluation when the level is off, so debug logs cost nothing.
#define BTFD_LOG(lvl, ...)                                             \
  do {                                                                 \
    if (::btfd::log::enabled(lvl)) ::btfd::log::write(lvl, __VA_ARGS__); \
  } while (0)
#define log_error(...) BTFD_LOG(::btfd::log::Level::error, __VA_ARGS__)
#define log_warning(...) BTFD_LOG(::btfd::log::Level::warning, __VA_ARGS__)
#define log_notice(...) BTFD_LOG(::btfd::log::Level::notice, __VA_ARGS__)
#define log_info(...) BTFD_LOG(::btfd::log::Level::info, __VA_ARGS__)
#define log_debug(...) BTFD_LOG(::btfd::log::Level::debug, __VA_ARGS__)
