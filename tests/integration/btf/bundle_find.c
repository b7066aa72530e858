/* SPDX-License-Identifier: GPL-2.0-or-later */
/* btfd_bundle_find() from the command line, for test_gen.py: looks a kernel up
 * in a bundle through libbtfd (no btfd involved) and copies the BTF it returns
 * to OUT. A field given as "-" is NULL (this host's). Prints "rc=N: message"
 * and, on success, the result's fields. Exit 0 whatever the answer. */
#include <btfd/libbtfd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *arg(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

int main(int argc, char **argv) {
	if (argc != 7) {
		fprintf(stderr, "usage: bundle-find BUNDLE DISTRO VERSION ARCH RELEASE OUT\n");
		return 2;
	}
	struct btfd_kernel k = {arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5])};
	struct btfd_result r;
	int rc = btfd_bundle_find(argv[1], &k, &r);
	printf("rc=%d: %s\n", rc, btfd_strerror(rc));
	if (rc)
		return 0;
	FILE *out = fopen(argv[6], "wb");
	if (!out) {
		perror(argv[6]);
		return 1;
	}
	char buf[65536];
	ssize_t n;
	/* The descriptor is also reachable by its path (for btf_custom_path). */
	FILE *in = fopen(r.path, "rb");
	if (!in) {
		perror(r.path);
		return 1;
	}
	while ((n = (ssize_t)fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, (size_t)n, out);
	fclose(in);
	fclose(out);
	printf("size=%llu sha256=%s source=%s cached=%d minimized=%d exact=%d\n", (unsigned long long)r.size, r.sha256,
	       r.source, r.cached, r.minimized, r.exact);
	/* The descriptor is read-only in effect: sealed against writes. */
	printf("write=%s\n", write(r.fd, "x", 1) < 0 ? "refused" : "allowed");
	btfd_result_release(&r);
	return 0;
}
