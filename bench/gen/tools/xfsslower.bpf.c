/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xfsslower: xfs reads, writes, opens and fsyncs slower than a threshold. */
#define FS_READ "xfs_file_read_iter"
#define FS_WRITE "xfs_file_write_iter"
#define FS_OPEN "xfs_file_open"
#define FS_SYNC "xfs_sync_file"
#include "fsslower.h"
