// SPDX-License-Identifier: LGPL-2.1-or-later
// Placeholder translation unit so the codec library is never empty.
namespace btfd::proto {
extern const char kInterfaceName[];
const char kInterfaceName[] = "io.btfd";
}  // namespace btfd::proto
