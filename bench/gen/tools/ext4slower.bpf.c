/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ext4slower: ext4 reads, writes, opens and fsyncs slower than a threshold. */
#define FS_READ "ext4_file_read_iter"
#define FS_WRITE "ext4_file_write_iter"
#define FS_OPEN "ext4_file_open"
#define FS_SYNC "ext4_sync_file"
#include "fsslower.h"
