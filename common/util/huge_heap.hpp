// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Transparent huge pages for a short-lived tool's heap. A one-shot `btfctl
// minimize` builds per-type tables of a few hundred KB each on fresh memory,
// and on a paravirtualised guest every fresh 4 KiB page costs a fault of 7-13
// us (~4 ms of a 26 ms run on a 4.6 MB kernel); as 2 MiB pages they cost a
// fraction of that. glibc offers this only as a tunable read at exec
// (glibc.malloc.hugetlb), hence this.

#include <cstddef>

namespace btfd {

// Large blocks (up to 32 MiB) are taken from the heap instead of mappings of
// their own, the heap is grown once by `reserve` bytes and kept, and that
// range is advised for transparent huge pages (used where THP is "always" or
// "madvise"). Costs address space, and resident memory rounded up to 2 MiB
// where the tool touches it: for programs that run briefly, never the daemon.
// Does nothing where the heap is not the C library's (sanitizers) or cannot
// grow. Call it before the large allocations.
void prefer_huge_pages_in_heap(size_t reserve);

}  // namespace btfd
