/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbtfd: ask btfd for kernel BTF. C ABI; compiles as C99 and C++.
 *
 * Typical agent use (libbpf): BTF minimized for the agent's own object.
 *
 *     LIBBPF_OPTS(bpf_object_open_opts, opts);
 *     // no-op when the kernel has BTF; NULL: default socket and timeout
 *     int err = btfd_ensure_core_btf_for_file(&opts, "agent.bpf.o", NULL);
 *     if (err) fprintf(stderr, "btfd: %s\n", btfd_strerror(err));
 *     obj = bpf_object__open_file("agent.bpf.o", &opts);
 *     ...load...
 *     btfd_clean_core_btf(&opts);
 *
 * All functions return 0 or a negative error code: -errno for system errors, or
 * one of the BTFD_ERR_* values below. btfd_strerror() describes either kind.
 * Every call that talks to btfd is bounded by a timeout (btfd_set_timeout(),
 * struct btfd_core_opts, $BTFD_TIMEOUT_MSEC); only the calls that ask for BTF
 * (btfd_get_btf() and the btfd_ensure_core_btf*() helpers) may wait for a
 * download from the hub.
 */
#ifndef LIBBTFD_H
#define LIBBTFD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum btfd_error {
	BTFD_ERR_UNREACHABLE = -1000,     /* btfd is not running / socket not reachable */
	BTFD_ERR_NOT_IN_HUB = -1001,      /* no BTF exists for this kernel */
	BTFD_ERR_HUB_UNREACHABLE = -1002, /* the hub could not be reached; retry later */
	BTFD_ERR_INVALID_OBJECT = -1003,  /* an object is not a valid CO-RE BPF object */
	BTFD_ERR_INVALID_KERNEL = -1004,  /* malformed kernel identity */
	BTFD_ERR_PERMISSION = -1005,      /* the caller may not do this */
	BTFD_ERR_TOO_LARGE = -1006,       /* a limit was exceeded */
	BTFD_ERR_BUSY = -1007,            /* btfd is overloaded; retry */
	BTFD_ERR_STORE = -1008,           /* btfd's cache failed (disk full, read-only) */
	BTFD_ERR_PROTOCOL = -1009,        /* unexpected answer from btfd */
	BTFD_ERR_INTERNAL = -1010,        /* a bug */
	BTFD_ERR_HUB_REJECTED = -1011,    /* a mirror served something btfd refuses */
	BTFD_ERR_TIMEOUT = -1012          /* btfd did not answer in time (since 1.1) */
};

/* The timeout of every call when neither the caller nor $BTFD_TIMEOUT_MSEC sets
 * one: long enough for btfd to download a kernel's BTF from a slow mirror. */
#define BTFD_DEFAULT_TIMEOUT_MSEC 300000

typedef struct btfd_client btfd_client;

/* A kernel identity (the btfhub-archive key). NULL fields mean "this host's". */
struct btfd_kernel {
	const char *distro;  /* os-release ID, e.g. "ubuntu" */
	const char *version; /* os-release VERSION_ID, e.g. "20.04" */
	const char *arch;    /* "x86_64", "arm64", ... */
	const char *release; /* uname -r */
};

/* The answer to btfd_get_btf(). Release with btfd_result_release(). */
struct btfd_result {
	int fd;               /* read-only descriptor of the BTF, owned by the result */
	char path[4096];      /* btfd's cache file with the same bytes (may not be visible in a container) */
	char sha256[65];      /* hex digest */
	uint64_t size;        /* bytes */
	char source[16];      /* "native", "hub" or "file" */
	int cached;           /* nothing had to be fetched or computed */
	int exact;            /* 0 when a site alias served another distro's kernel */
	int minimized;        /* minimized for the given objects */
};

/* Connects to btfd. socket_path NULL means $BTFD_SOCKET, else the default socket.
 * The client's timeout starts as $BTFD_TIMEOUT_MSEC (milliseconds; 0: none),
 * else BTFD_DEFAULT_TIMEOUT_MSEC; it bounds the connect itself too. */
int btfd_connect(const char *socket_path, btfd_client **client);
void btfd_close(btfd_client *client);

/* BTF for `kernel` (NULL: this host), minimized for the objects if n_objects > 0.
 * Objects are passed as open descriptors; btfd never opens paths. */
int btfd_get_btf(btfd_client *client, const struct btfd_kernel *kernel, const int *object_fds,
		 size_t n_objects, struct btfd_result *result);
void btfd_result_release(struct btfd_result *result);

/* Describes a return code of this library. Never NULL. */
const char *btfd_strerror(int err);

struct bpf_object_open_opts;
/* Sets opts->btf_custom_path to this host's BTF from btfd: "/proc/self/fd/N",
 * the descriptor btfd passed, kept open (O_CLOEXEC) until btfd_clean_core_btf();
 * no file is written. Does nothing (returns 0) when /sys/kernel/btf/vmlinux
 * exists, unless $BTFD_FORCE is "1", or when btf_custom_path is already set. */
int btfd_ensure_core_btf(struct bpf_object_open_opts *opts);
/* Undoes the btfd_ensure_core_btf*() calls: closes the descriptor and clears
 * btf_custom_path. A path the caller set is left alone. */
void btfd_clean_core_btf(struct bpf_object_open_opts *opts);

/* Since 1.1. */

/* Bounds every later call on client to timeout_msec milliseconds, connecting
 * again included (0: no bound; negative: -EINVAL). A call that runs out of
 * time returns BTFD_ERR_TIMEOUT and closes the connection; the next call on the
 * client connects again. */
int btfd_set_timeout(btfd_client *client, int timeout_msec);

/* Options of the btfd_ensure_core_btf_for_*() helpers; NULL means all defaults.
 * Set sz to sizeof(struct btfd_core_opts) and every field you do not use to 0. */
struct btfd_core_opts {
	size_t sz;               /* sizeof(struct btfd_core_opts) */
	const char *socket_path; /* NULL: $BTFD_SOCKET, else the default socket */
	int timeout_msec;        /* 0: $BTFD_TIMEOUT_MSEC, else BTFD_DEFAULT_TIMEOUT_MSEC */
};

/* As btfd_ensure_core_btf(), with BTF minimized for the BPF object at
 * object_path (read here and passed to btfd as a descriptor). */
int btfd_ensure_core_btf_for_file(struct bpf_object_open_opts *opts, const char *object_path,
				  const struct btfd_core_opts *core_opts);
/* The same for an object in memory (as bpf_object__open_mem() takes it),
 * passed to btfd through a sealed memfd. */
int btfd_ensure_core_btf_for_mem(struct bpf_object_open_opts *opts, const void *object, size_t size,
				 const struct btfd_core_opts *core_opts);

/* Since 1.2: bundles (docs/bundle.md), read without btfd. */

#define BTFD_ERR_INVALID_BUNDLE (-1020) /* not a valid btfd bundle (damaged, truncated, foreign) */
#define BTFD_ERR_NOT_IN_BUNDLE (-1021)  /* the bundle holds no BTF for this kernel */

/* Looks kernel up in a bundle made by `btfctl gen --bundle` and returns its
 * minimized BTF, for an agent that ships a bundle and runs where btfd is not
 * (try btfd_get_btf() first, then this). kernel NULL, or NULL fields, mean this
 * host's, as btfd maps it to btfhub-archive's names. The bundle's header, index
 * and the one BTF returned are checked against their SHA-256; a damaged bundle
 * is BTFD_ERR_INVALID_BUNDLE. On success result->fd is a read-only descriptor
 * of the BTF (a sealed memfd), result->path is "/proc/self/fd/N" naming it (for
 * libbpf's btf_custom_path), source is "bundle", cached and minimized are 1;
 * release it with btfd_result_release(). */
int btfd_bundle_find(const char *bundle_path, const struct btfd_kernel *kernel, struct btfd_result *result);

/* Since 1.3: BTF for older readers. */

/* Asks btfd to rewrite the BTF of every later btfd_get_btf() on client for a
 * reader of this compatibility level (GetBtf's "compat", docs/protocol.md):
 * a kernel release ("5.13") or an alias ("cilium-ebpf-0.9"); type ids are
 * kept. NULL or "" asks for the bytes unchanged. A client starts with
 * $BTFD_COMPAT; the btfd_ensure_core_btf*() helpers use $BTFD_COMPAT, and
 * with it set ask btfd even when /sys/kernel/btf/vmlinux exists (the reader
 * cannot parse that). btfd refuses an unknown level: the next btfd_get_btf()
 * returns BTFD_ERR_PROTOCOL (`btfctl get --compat LEVEL` says which levels
 * exist). -EINVAL for a NULL client or a level over 64 bytes. */
int btfd_set_compat(btfd_client *client, const char *level);

#ifdef __cplusplus
}
#endif

#endif /* LIBBTFD_H */
