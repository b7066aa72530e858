/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Drives libbtfd's libbpf helpers in one process, since /proc/self/fd is per
 * process: the path they set, that libbpf parses it and loads an object with
 * it, that clean closes the descriptor, that nothing leaks; and the timeouts.
 * test_core_btf.py starts btfd and the hubs and reads the "key: value" lines.
 *
 *   core-btf-check file|mem|full OBJECT   ensure (minimized for OBJECT, or the full BTF), load
 *   core-btf-check get-kernel SOCKET MSEC DISTRO VERSION ARCH RELEASE
 *   core-btf-check helper-timeout OBJECT MSEC   (MSEC in struct btfd_core_opts; 0: the environment's)
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <btfd/libbtfd.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failed;

static void check(int cond, const char *what)
{
	if (!cond) {
		printf("FAIL: %s\n", what);
		failed = 1;
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rbe");
	void *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
		return NULL;
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static unsigned btf_types(const char *path)
{
	struct btf *btf = btf__parse(path, NULL);
	unsigned n;

	if (!btf)
		return 0;
	n = btf__type_cnt(btf);
	btf__free(btf);
	return n;
}

/* ensure (minimized for the object by path or bytes, or the full BTF), open, load, clean */
static int run_ensure(const char *mode, const char *object)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct btfd_core_opts core = {.sz = sizeof core};
	struct bpf_object *obj;
	size_t size = 0;
	void *bytes = read_whole(object, &size);
	int fds_before = count_fds(), fd = -1, err;
	const char *prefix = "/proc/self/fd/";

	check(bytes != NULL, "read the object");
	if (strcmp(mode, "file") == 0)
		err = btfd_ensure_core_btf_for_file(&opts, object, &core);
	else if (strcmp(mode, "mem") == 0)
		err = btfd_ensure_core_btf_for_mem(&opts, bytes, size, NULL);
	else
		err = btfd_ensure_core_btf(&opts);
	printf("ensure: %d (%s)\n", err, btfd_strerror(err));
	if (err || !opts.btf_custom_path) {
		check(0, "the helper set btf_custom_path");
		free(bytes);
		return 1;
	}
	printf("btf_custom_path: %s\n", opts.btf_custom_path);
	check(strncmp(opts.btf_custom_path, prefix, strlen(prefix)) == 0, "btf_custom_path is under /proc/self/fd");
	fd = atoi(opts.btf_custom_path + strlen(prefix));
	check(fd > 2 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "the descriptor is open and close-on-exec");
	check(count_fds() == fds_before + 1, "the helper holds exactly one descriptor (no socket, memfd or object left open)");
	printf("btf_types: %u\n", btf_types(opts.btf_custom_path));
	printf("kernel_types: %u\n", btf_types("/sys/kernel/btf/vmlinux"));

	obj = strcmp(mode, "mem") == 0 ? bpf_object__open_mem(bytes, size, &opts)
				       : bpf_object__open_file(object, &opts);
	check(obj != NULL, "libbpf opened the object with the custom BTF");
	if (obj) {
		err = bpf_object__load(obj);
		printf("load: %d (%s)\n", err, err == -EPERM ? "not permitted" : err ? strerror(-err) : "ok");
		bpf_object__close(obj);
	}
	btfd_clean_core_btf(&opts);
	check(opts.btf_custom_path == NULL, "clean cleared btf_custom_path");
	check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "clean closed the descriptor");
	check(count_fds() == fds_before, "no descriptor left after clean");
	free(bytes);
	return failed;
}

static int run_get_kernel(char **argv)
{
	struct btfd_kernel k = {.distro = argv[3], .version = argv[4], .arch = argv[5], .release = argv[6]};
	struct btfd_result r;
	btfd_client *c = NULL;
	long start;
	int err = btfd_connect(argv[1], &c);

	if (err) {
		printf("connect: %d (%s)\n", err, btfd_strerror(err));
		return 1;
	}
	check(btfd_set_timeout(c, atoi(argv[2])) == 0, "btfd_set_timeout");
	check(btfd_set_timeout(c, -1) == -EINVAL && btfd_set_timeout(NULL, 1) == -EINVAL, "bad timeouts are refused");
	check(btfd_set_timeout(c, atoi(argv[2])) == 0, "btfd_set_timeout again");
	start = now_ms();
	err = btfd_get_btf(c, &k, NULL, 0, &r);
	printf("get: %d (%s)\n", err, btfd_strerror(err));
	printf("elapsed_ms: %ld\n", now_ms() - start);
	if (err == 0)
		btfd_result_release(&r);
	/* The connection was closed by the timeout; the next call connects again. */
	start = now_ms();
	err = btfd_get_btf(c, &k, NULL, 0, &r);
	printf("again: %d (%s)\n", err, btfd_strerror(err));
	printf("again_elapsed_ms: %ld\n", now_ms() - start);
	if (err == 0)
		btfd_result_release(&r);
	btfd_close(c);
	return failed;
}

static int run_helper_timeout(const char *object, int msec)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct btfd_core_opts core = {.sz = sizeof core, .timeout_msec = msec};
	int fds_before = count_fds(), err;
	long start = now_ms();

	err = btfd_ensure_core_btf_for_file(&opts, object, &core);
	printf("ensure: %d (%s)\n", err, btfd_strerror(err));
	printf("elapsed_ms: %ld\n", now_ms() - start);
	check(opts.btf_custom_path == NULL, "a failed helper sets no path");
	check(count_fds() == fds_before, "a failed helper leaves no descriptor");
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 3 && (!strcmp(argv[1], "file") || !strcmp(argv[1], "mem") || !strcmp(argv[1], "full")))
		return run_ensure(argv[1], argv[2]);
	if (argc == 3 && !strcmp(argv[1], "file-only")) {
		/* Only the helper's own open (the object may be a FIFO: never read here). */
		LIBBPF_OPTS(bpf_object_open_opts, opts);
		int err = btfd_ensure_core_btf_for_file(&opts, argv[2], NULL);
		printf("ensure: %d (%s)\n", err, btfd_strerror(err));
		btfd_clean_core_btf(&opts);
		return 0;
	}
	if (argc == 8 && !strcmp(argv[1], "get-kernel"))
		return run_get_kernel(argv + 1);
	if (argc == 4 && !strcmp(argv[1], "helper-timeout"))
		return run_helper_timeout(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of core_btf_check.c\n");
	return 2;
}
