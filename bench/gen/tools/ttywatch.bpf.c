/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ttywatch: output written to terminals, by tty name and session, with the
 * writer's controlling terminal (iov_iter's kind field was renamed in 5.14). */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct iov_iter___v514 { u8 iter_type; } __pai;
struct event { struct task_id task; u32 count, kind, index, sid; char tty[16], driver[16], ctty[16]; char data[128]; };
RINGBUF(events);

SEC("kprobe/tty_write")
int BPF_KPROBE(tty_write, struct kiocb *iocb, struct iov_iter *from)
{
	struct file *f = BPF_CORE_READ(iocb, ki_filp);
	struct tty_file_private *priv = BPF_CORE_READ(f, private_data);
	struct tty_struct *tty = BPF_CORE_READ(priv, tty);
	struct iov_iter___v514 *n = (void *)from;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	const struct iovec *iov = BPF_CORE_READ(from, iov);
	struct event *e;

	if (IGNORED(BPF_CORE_READ(t, tgid)))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	task_ids(t, &e->task);
	e->count = BPF_CORE_READ(from, count);
	e->kind = bpf_core_field_exists(n->iter_type) ? BPF_CORE_READ(n, iter_type) : BPF_CORE_READ(from, type);
	e->index = BPF_CORE_READ(tty, index);
	e->sid = BPF_CORE_READ(t, signal, pids[PIDTYPE_SID], numbers[0].nr);
	BPF_CORE_READ_STR_INTO(&e->tty, tty, name);
	BPF_CORE_READ_STR_INTO(&e->driver, tty, driver, name);
	BPF_CORE_READ_STR_INTO(&e->ctty, t, signal, tty, name);
	bpf_probe_read_user(e->data, sizeof(e->data), BPF_CORE_READ(iov, iov_base));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
