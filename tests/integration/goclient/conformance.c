/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs tests/integration/goclient/requests.txt through libbtfd and prints one
 * line per request: name, code, sha256, size, source, exact, minimized. The
 * Go client's twin (clients/go/internal/conformance) prints the same. */
#include <btfd/libbtfd.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *field(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

int main(int argc, char **argv)
{
	char line[1024], name[128], distro[128], version[128], arch[128], release[256], objects[32];
	int expected, failed = 0;
	btfd_client *c;
	FILE *table;

	if (argc != 4) {
		fprintf(stderr, "usage: %s TABLE OBJECT NOT-AN-OBJECT\n", argv[0]);
		return 2;
	}
	table = fopen(argv[1], "re");
	if (!table) {
		perror(argv[1]);
		return 2;
	}
	int err = btfd_connect(NULL, &c);
	if (err) {
		fprintf(stderr, "connect: %s\n", btfd_strerror(err));
		return 1;
	}
	while (fgets(line, sizeof line, table)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%127s %127s %127s %127s %255s %31s %d", name, distro, version, arch, release,
			   objects, &expected) != 7) {
			fprintf(stderr, "bad table line: %s", line);
			return 2;
		}
		struct btfd_kernel k = {field(distro), field(version), field(arch), field(release)};
		int any = k.distro || k.version || k.arch || k.release;
		int fd = -1;
		if (strcmp(objects, "obj") == 0)
			fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		else if (strcmp(objects, "notobj") == 0)
			fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		struct btfd_result r;
		err = btfd_get_btf(c, any ? &k : NULL, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, &r);
		if (fd >= 0)
			close(fd);
		if (err)
			printf("%s\t%d\t-\t0\t-\t0\t0\n", name, err);
		else
			printf("%s\t0\t%s\t%llu\t%s\t%d\t%d\n", name, r.sha256, (unsigned long long)r.size, r.source,
			       r.exact, r.minimized);
		if (!err)
			btfd_result_release(&r);
	}
	fclose(table);
	btfd_close(c);
	return failed;
}
