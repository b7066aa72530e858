/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbtfd: ask btfd for kernel BTF. C ABI; compiles as C99 and C++.
 *
 * Typical agent use (libbpf):
 *
 *     LIBBPF_OPTS(bpf_object_open_opts, opts);
 *     int err = btfd_ensure_core_btf(&opts);   // no-op when the kernel has BTF
 *     if (err) fprintf(stderr, "btfd: %s\n", btfd_strerror(err));
 *     obj = bpf_object__open_file("agent.bpf.o", &opts);
 *     ...
 *     btfd_clean_core_btf(&opts);
 *
 * All functions return 0 or a negative error code: -errno for system errors, or
 * one of the BTFD_ERR_* values below. btfd_strerror() describes either kind.
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
	BTFD_ERR_HUB_REJECTED = -1011     /* a mirror served something btfd refuses */
};

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

/* Connects to btfd. socket_path NULL means $BTFD_SOCKET, else the default socket. */
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
/* Sets opts->btf_custom_path to this host's BTF from btfd, written to a private
 * temporary file. Does nothing (returns 0) when /sys/kernel/btf/vmlinux exists,
 * unless $BTFD_FORCE is "1", or when btf_custom_path is already set. */
int btfd_ensure_core_btf(struct bpf_object_open_opts *opts);
/* Undoes btfd_ensure_core_btf(): removes the file and clears btf_custom_path. */
void btfd_clean_core_btf(struct bpf_object_open_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* LIBBTFD_H */
