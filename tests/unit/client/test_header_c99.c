/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The public header compiles as strict C99, and the library answers clearly when
 * btfd is unreachable. */
#include <btfd/libbtfd.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	btfd_client *c = NULL;
	int err = btfd_connect("/nonexistent/btfd.sock", &c);

	if (err != BTFD_ERR_UNREACHABLE || c != NULL) {
		fprintf(stderr, "expected BTFD_ERR_UNREACHABLE, got %d\n", err);
		return 1;
	}
	if (strstr(btfd_strerror(err), "not reachable") == NULL || btfd_strerror(-2) == NULL ||
	    strcmp(btfd_strerror(0), "success") != 0) {
		fprintf(stderr, "btfd_strerror gives unexpected text\n");
		return 1;
	}
	if (btfd_get_btf(NULL, NULL, NULL, 0, NULL) >= 0) {
		fprintf(stderr, "NULL arguments must fail\n");
		return 1;
	}
	/* 1.1: the helpers' options as C99 designated initializers, the timeout calls. */
	{
		struct btfd_core_opts core = {.sz = sizeof(core), .timeout_msec = BTFD_DEFAULT_TIMEOUT_MSEC};

		if (btfd_set_timeout(NULL, 1000) >= 0 || core.socket_path != NULL ||
		    btfd_ensure_core_btf_for_file(NULL, "x.o", &core) >= 0 ||
		    btfd_ensure_core_btf_for_mem(NULL, "x", 1, &core) >= 0 ||
		    strstr(btfd_strerror(BTFD_ERR_TIMEOUT), "timeout") == NULL) {
			fprintf(stderr, "the 1.1 calls misbehave\n");
			return 1;
		}
	}
	puts("ok");
	return 0;
}
