/* SPDX-License-Identifier: GPL-2.0-or-later */
/* btrfsslower: btrfs reads, writes, opens and fsyncs slower than a threshold. */
#define FS_READ "generic_file_read_iter"
#define FS_WRITE "btrfs_file_write_iter"
#define FS_OPEN "btrfs_file_open"
#define FS_SYNC "btrfs_sync_file"
#include "fsslower.h"
