/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An agent using libbtfd: BTF minimized for its object from btfd
 * (btfd_ensure_core_btf_for_file, as btf_custom_path), then libbpf loads the
 * object. Prints "btf: PATH", then "load: ok" or "load: failed (ERR)".
 * Exit 0 loaded, 1 not. */
#include <bpf/libbpf.h>
#include <btfd/libbtfd.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	err = btfd_ensure_core_btf_for_file(&opts, argv[1], NULL);
	if (err) {
		printf("btfd: %s\n", btfd_strerror(err));
		return 1;
	}
	printf("btf: %s\n", opts.btf_custom_path ? opts.btf_custom_path : "the kernel's own");
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		printf("open: failed\n");
		btfd_clean_core_btf(&opts);
		return 1;
	}
	err = bpf_object__load(obj);
	if (err)
		printf("load: failed (%d)\n", err);
	else
		printf("load: ok\n");
	bpf_object__close(obj);
	btfd_clean_core_btf(&opts);
	return err ? 1 : 0;
}
