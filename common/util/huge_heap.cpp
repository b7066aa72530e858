// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/huge_heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace btfd {

void prefer_huge_pages_in_heap(size_t reserve) {
  constexpr uintptr_t kHuge = 2u << 20;
  // 32 MiB is the largest threshold glibc accepts on 64-bit systems.
  if (mallopt(M_MMAP_THRESHOLD, 32 << 20) == 0) return;
  // What is freed stays in the heap, advised, for the next table.
  (void)mallopt(M_TRIM_THRESHOLD, static_cast<int>(reserve * 2));
  void* block = std::malloc(reserve);
  if (!block) return;
  // The range is worked out before the block is freed (after, it is the
  // heap's top, which the next large tables are carved from; free trims
  // nothing below M_TRIM_THRESHOLD, so brk stays).
  const auto begin = reinterpret_cast<uintptr_t>(block);
  const auto brk = reinterpret_cast<uintptr_t>(::sbrk(0));
  // Only a block inside the heap glibc's main arena grew by brk, [brk -
  // arena, brk): not one from elsewhere (a sanitizer's allocator, a heap that
  // could not grow and became a mapping), which would make the range
  // arbitrary.
  const size_t arena = mallinfo2().arena;
  const bool in_heap = brk != static_cast<uintptr_t>(-1) && arena <= brk && begin >= brk - arena && begin <= brk &&
                       brk - begin >= reserve;
  const uintptr_t lo = (begin + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t hi = brk & ~(kHuge - 1);
  std::free(block);
  if (in_heap && hi > lo) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
}

}  // namespace btfd
