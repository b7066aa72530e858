#!/usr/bin/env python3
# A file system whose server stops answering, for real: a minimal FUSE server
# on /dev/fuse (the raw protocol, stdlib only). It serves files "obj0".."objN"
# of 4096 bytes in its root and never answers a READ: a reader blocks in the
# kernel until this process dies. Usage: stallfs.py MOUNTPOINT (as root).
# Prints "mounted" once the mount is up and "READ N" for each stalled read.
import ctypes, errno, os, stat, struct, sys

mnt = sys.argv[1]
fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
libc = ctypes.CDLL(None, use_errno=True)
opts = "fd=%d,rootmode=40000,user_id=%d,group_id=%d,allow_other" % (fd, os.getuid(), os.getgid())
if libc.mount(b"stallfs", mnt.encode(), b"fuse", 0, opts.encode()) != 0:
    sys.exit("mount: " + os.strerror(ctypes.get_errno()))
print("mounted", flush=True)

INIT, LOOKUP, GETATTR, FORGET, OPEN, READ, RELEASE, STATFS = 26, 1, 3, 2, 14, 15, 18, 17
FLUSH, OPENDIR, READDIR, RELEASEDIR, BATCH_FORGET = 25, 27, 28, 29, 42


def attr(ino):
    mode = (stat.S_IFDIR | 0o755) if ino == 1 else (stat.S_IFREG | 0o644)
    size = 0 if ino == 1 else 4096
    # fuse_attr: ino size blocks atime mtime ctime, nsecs, mode nlink uid gid rdev blksize padding
    return struct.pack("<QQQQQQIIIIIIIIII", ino, size, 8, 0, 0, 0, 0, 0, 0, mode, 1, 0, 0, 0, 4096, 0)


def reply(unique, err=0, body=b""):
    os.write(fd, struct.pack("<IiQ", 16 + len(body), -err, unique) + body)


stalled = 0
while True:
    try:
        req = os.read(fd, 1 << 20)
    except OSError as e:
        if e.errno == errno.ENODEV:  # unmounted
            break
        if e.errno in (errno.EINTR, errno.ENOENT):  # ENOENT: a request interrupted before we read it
            continue
        raise
    ln, op, unique, node = struct.unpack_from("<IIQQ", req)
    body = req[40:ln]
    if op == INIT:
        # fuse_init_out, protocol 7.31: major minor max_readahead flags
        # max_background congestion_threshold max_write time_gran max_pages ...
        reply(unique, 0, struct.pack("<IIIIHHIIHHI", 7, 31, 0, 0, 16, 12, 65536, 1, 32, 0, 0) + b"\0" * 28)
    elif op == LOOKUP:
        name = body.split(b"\0")[0]
        if node == 1 and name.startswith(b"obj") and name[3:].isdigit():
            ino = 2 + int(name[3:])
            reply(unique, 0, struct.pack("<QQQQII", ino, 0, 60, 60, 0, 0) + attr(ino))
        else:
            reply(unique, errno.ENOENT)
    elif op == GETATTR:
        reply(unique, 0, struct.pack("<QII", 60, 0, 0) + attr(node))
    elif op in (OPEN, OPENDIR):
        reply(unique, 0, struct.pack("<QII", 1, 0, 0))
    elif op == READ:  # never answered
        stalled += 1
        print("READ", stalled, flush=True)
    elif op == STATFS:
        reply(unique, 0, struct.pack("<QQQQQIIII", 100, 50, 50, 10, 5, 4096, 255, 4096, 0) + b"\0" * 24)
    elif op == READDIR:
        reply(unique, 0, b"")
    elif op in (RELEASE, RELEASEDIR, FLUSH):
        reply(unique, 0)
    elif op in (FORGET, BATCH_FORGET):  # no reply
        pass
    else:
        reply(unique, errno.ENOSYS)
