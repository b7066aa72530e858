// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Where `btfctl check` gets its kernels: an archive source as hub/archive_index
// lists and reads it (a btfhub-archive directory or mirror URL).

#include "hub/archive_index.hpp"

namespace btfctl::check {

using btfd::hub::ArchiveEntry;
using btfd::hub::ArchiveFilter;
using btfd::hub::list_archive;
using btfd::hub::read_archive_btf;

}  // namespace btfctl::check
