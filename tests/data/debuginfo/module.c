/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module in miniature: its own types over the kernel's (split BTF). */
#include "kernel.h"

struct mod_conn {
  struct task_struct *owner;
  struct list_head node;
  u32 count;
  enum mod_state { MOD_IDLE, MOD_BUSY = 2 } mstate;
};

struct mod_conn mod_table[4];

int mod_poke(struct mod_conn *c) { return c->owner->pid + (int)c->count + (int)c->mstate; }
