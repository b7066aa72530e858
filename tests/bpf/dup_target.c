/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A synthetic "kernel" for dup_local.bpf.c: its .BTF is the target BTF. */
struct pair { int first; int second; };
struct pair___v2 { int zeroth; int second; int extra; };
struct pair g_pair;
struct pair___v2 g_pair_v2;
