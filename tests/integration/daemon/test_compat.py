#!/usr/bin/env python3
# GetBtf's "compat" over the socket: a real btfd serving this host's BTF (and a
# hub fixture kernel) rewritten for older readers, full and minimized: type
# ids (counts) kept, no kind above the level left, the reply's digest and size
# those of the bytes sent, the same bytes as `btfctl minimize --compat` makes
# locally; no compat (or "") leaves the bytes as they were; an unknown level is
# InvalidParameter naming it and the known levels.
import hashlib, json, os, shutil, signal, struct, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check as note, failures, hub_dir

def check(cond, what):
    note(cond, what)
    return bool(cond)

btfd, btfctl, sample_obj = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="btfd-compat-test-")
sock = os.path.join(tmp, "btfd.sock")

# Kinds a level still has: 1..13 always; VAR/DATASEC (14, 15) from 5.2, FLOAT
# (16) from 5.13, DECL_TAG (17) 5.16, TYPE_TAG (18) 5.17, ENUM64 (19) 6.0.
def scan(data):
    """(type count, {kind: count}, {kind: count with kind_flag}) of raw BTF."""
    hdr_len, type_off, type_len = struct.unpack_from("<III", data, 4)[0], *struct.unpack_from("<II", data, 8)
    off, end = hdr_len + type_off, hdr_len + type_off + type_len
    kinds, flagged, n = {}, {}, 0
    extra = {1: 4, 3: 12, 14: 4, 17: 4}
    per = {4: 12, 5: 12, 15: 12, 19: 12, 6: 8, 13: 8}
    while off < end:
        _, info, _ = struct.unpack_from("<III", data, off)
        k, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        kinds[k] = kinds.get(k, 0) + 1
        if info >> 31: flagged[k] = flagged.get(k, 0) + 1
        off += 12 + extra.get(k, 0) + per.get(k, 0) * vlen
        n += 1
    return n, kinds, flagged

def get(params, objects=()):
    c = varlink.Conn(sock)
    fds = [os.open(o, os.O_RDONLY | os.O_CLOEXEC) for o in objects]
    if fds: params = dict(params, objects=list(range(len(fds))))
    r, got = c.call("io.btfd.GetBtf", params, fds=fds)
    for f in fds: os.close(f)
    data = None
    if got:
        data = os.pread(got[0], os.fstat(got[0]).st_size, 0)
        for f in got: os.close(f)
    c.close()
    return r, data

def check_reply(r, data, level, what):
    if not check("error" not in r and data is not None, "%s: answered (%s)" % (what, r.get("error"))): return False
    p = r["parameters"]
    check(p.get("compat") == level, "%s: the reply names the level: %r" % (what, p.get("compat")))
    check("path" not in p, "%s: no cache path for rewritten bytes" % what)
    check(p["size"] == len(data) and p["sha256"] == hashlib.sha256(data).hexdigest(),
          "%s: size and sha256 are the bytes'" % what)
    return True

d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "cache"), "--idle-exit", "0",
                      "--mirror", hub_dir()], stderr=open(os.path.join(tmp, "btfd.log"), "w"))
try:
    varlink.wait_for_socket(sock, d)
    get({})  # warm: the kernel at hand, as the calls below find it
    t0 = time.monotonic()
    r, full = get({})
    print("no compat: answered in %.1f ms" % ((time.monotonic() - t0) * 1000))
    check("error" not in r and full, "this host's BTF: %s" % r.get("error"))
    n, kinds, flagged = scan(full)
    print("this host's BTF: %d types, kinds %s" % (n, sorted(kinds.items())))
    check("path" in r["parameters"] and "compat" not in r["parameters"], "no compat: a cache path, no level")
    r2, same = get({"compat": ""})
    check(same == full and "compat" not in r2["parameters"], "compat \"\" leaves the bytes unchanged")

    levels = {"cilium-ebpf-0.9": 16, "5.0": 13, "5.2": 15, "5.16": 17, "6.0": 19}
    for level, top in levels.items():
        t0 = time.monotonic()
        r, data = get({"compat": level})
        ms = (time.monotonic() - t0) * 1000
        if not check_reply(r, data, level, "full BTF at %s" % level): continue
        n2, kinds2, flagged2 = scan(data)
        above = {k: c for k, c in kinds2.items() if k > top}
        check(n2 == n, "%s: type ids kept (%d types, was %d)" % (level, n2, n))
        check(not above, "%s: no kind above the level left: %s" % (level, above))
        check(len(data) <= len(full), "%s: never larger than the input" % level)
        if top < 19: check(not flagged2.get(6), "%s: no signed-enum kind_flag left" % level)
        # Attribute tags (kind_flag on DECL_TAG/TYPE_TAG) came in 6.15: every level here lacks them.
        changed = any(k > top for k in kinds) or (top < 19 and flagged.get(6)) or flagged.get(17) or flagged.get(18)
        check((data != full) == bool(changed), "%s: the bytes change exactly when the kernel holds something newer" % level)
        print("%s: %d bytes (was %d), answered in %.1f ms" % (level, len(data), len(full), ms))
        # The same rewrite as btfctl's local one, byte for byte.
        src, out = os.path.join(tmp, "full.btf"), os.path.join(tmp, "local.btf")
        open(src, "wb").write(full)
        p = subprocess.run([btfctl, "--json", "minimize", src, "--compat", level, "-o", out], capture_output=True, text=True)
        check(p.returncode == 0 and open(out, "rb").read() == data, "%s: btfctl minimize --compat gives the same bytes: %s" % (level, p.stderr))

    # Minimized and rewritten: the object's BTF for an old reader.
    r, data = get({"compat": "5.0"}, [sample_obj])
    if check_reply(r, data, "5.0", "minimized at 5.0"):
        check(r["parameters"]["minimized"], "minimized at 5.0: minimized")
        n3, kinds3, _ = scan(data)
        check(all(k <= 13 for k in kinds3), "minimized at 5.0: kinds %s" % kinds3)
        r, plain = get({}, [sample_obj])
        check(scan(plain)[0] == n3, "minimized at 5.0: as many types as the plain minimized BTF")

    # A hub kernel: a release trimmed to X.Y in the reply.
    k = {"distro": "ubuntu", "version": "20.04", "arch": "x86_64", "release": "5.11.0-1028-gcp"}
    r, data = get({"kernel": k, "compat": "5.4.0-26-generic"})
    if check_reply(r, data, "5.4", "a hub kernel at 5.4.0-26-generic"):
        check(all(kk <= 15 for kk in scan(data)[1]), "a hub kernel at 5.4: kinds %s" % scan(data)[1])

    # Unknown levels: InvalidParameter naming the parameter, the level and the known ones.
    for bad in ("4.19", "banana", "x" * 100):
        r, data = get({"compat": bad})
        msg = json.dumps(r)
        check(r.get("error") == "org.varlink.service.InvalidParameter" and r["parameters"].get("parameter") == "compat",
              "unknown level %r: InvalidParameter on compat: %s" % (bad[:20], msg[:300]))
        check("cilium-ebpf-0.9" in msg and "5.13" in msg and bad[:60] in msg, "the error names the level and the known ones: %s" % msg[:400])
        check(data is None, "no BTF with an error")
    p = subprocess.run([btfctl, "--socket", sock, "get", "--compat", "banana"], capture_output=True, text=True)
    check(p.returncode != 0 and "banana" in p.stderr and "cilium-ebpf-0.9" in p.stderr,
          "btfctl get --compat banana: %d %s" % (p.returncode, p.stderr.strip()))
    out = os.path.join(tmp, "get.btf")
    p = subprocess.run([btfctl, "--socket", sock, "get", "--compat", "cilium-ebpf-0.9", "-o", out], capture_output=True, text=True)
    check(p.returncode == 0 and "compat:    cilium-ebpf-0.9" in p.stdout and all(kk <= 16 for kk in scan(open(out, "rb").read())[1]),
          "btfctl get --compat: %s %s" % (p.stdout, p.stderr))
finally:
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=20)
    if failures:
        print(open(os.path.join(tmp, "btfd.log")).read()[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
