#!/usr/bin/env python3
# BTF from a kernel's own debug info, end to end: a kernel and a module in
# miniature (tests/data/debuginfo) compiled with -g into the files a -dbg
# package installs, a real btfd with a private cache and host root, the hub
# off. GetBtf answers with source "debuginfo" and BTF whose `bpftool btf dump
# format raw` is pahole's own for the file; the libbpf oracle relocates a CO-RE
# object the same against btfd's minimized BTF as against pahole's output.
# Then a loopback debuginfod serving the running kernel's debug file by
# build-id (/sys/kernel/notes under the host root), and hostile ones (too big,
# another build-id, garbage): named errors, nothing stored.
import hashlib, http.server, json, os, shutil, signal, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, fatal, finish, skip_no_bpf, skip_not_root, source_root, core_relocations

btfd, oracle, btfctl = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="btfd-debuginfo-test-")
data = os.path.join(source_root(), "tests", "data", "debuginfo")
RELEASE = "6.1.0-77-test"

def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if p.returncode != 0: fatal("%s: %s" % (" ".join(cmd), p.stderr))
    return p.stdout

def build_kernel(out, extra=()):
    run(["cc", "-g", "-O1", "-nostdlib", "-static", "-Wl,--build-id", *extra, "-o", out, os.path.join(data, "kernel.c")])

def build_id(path):
    out = run(["readelf", "-n", path])
    return [l.split()[-1] for l in out.splitlines() if "Build ID:" in l][0]

def raw_dump(path):
    return run(["bpftool", "btf", "dump", "file", path, "format", "raw"])

def dump(base, split):
    """Split BTF as bpftool reads it: libbpf's btf__parse_split over the base."""
    return run(["bpftool", "btf", "dump", "-B", base, "file", split, "format", "raw"])

vmlinux = os.path.join(tmp, "vmlinux")
build_kernel(vmlinux)
direct = os.path.join(tmp, "direct.btf")
run(["pahole", "--btf_encode_detached=" + direct, vmlinux])

def host_root(name, notes_from=None):
    root = os.path.join(tmp, name)
    os.makedirs(os.path.join(root, "etc"))
    open(os.path.join(root, "etc", "os-release"), "w").write('ID=debian\nVERSION_ID="12"\n')
    if notes_from:
        os.makedirs(os.path.join(root, "sys", "kernel"))
        run(["objcopy", "-O", "binary", "--only-section=.note.gnu.build-id", notes_from,
             os.path.join(root, "sys", "kernel", "notes")])
    return root

def start(root, cache, conf_text=""):
    conf_text = "[Hub]\nMirrors=\n" + conf_text  # the hub off
    sock = os.path.join(tmp, "btfd-%s.sock" % os.path.basename(root))
    conf = os.path.join(tmp, "btfd-%s.conf" % os.path.basename(root))
    open(conf, "w").write(conf_text)
    p = subprocess.Popen([btfd, "--config", conf, "--socket", sock, "--cache-dir", cache, "--idle-exit", "0",
                          "--host-root", root, "--log-level", "debug"],
                         stderr=open(os.path.join(tmp, "btfd.log"), "a"))
    varlink.wait_for_socket(sock, p)
    return p, sock

def stop(p):
    p.send_signal(signal.SIGTERM); p.wait(timeout=30)

def call_all(sock, method, params=None, fds=()):
    """The reply and the content of every fd sent with it, in order."""
    c = varlink.Conn(sock, timeout=300); r, got = c.call(method, params or {}, fds); c.close()
    contents = []
    for f in got:
        with os.fdopen(f, "rb") as fh: contents.append(fh.read())
    return r, contents

def call(sock, method, params=None, fds=()):
    r, contents = call_all(sock, method, params, fds)
    return r, (contents[0] if contents else b"")

def no_temp_files(cache):
    return [n for n in os.listdir(cache) if n.startswith(".debuginfod-") or n.startswith(".pahole-")]

# --- installed debug info -------------------------------------------------
root = host_root("installed")
os.makedirs(os.path.join(root, "usr", "lib", "debug", "boot"))
shutil.copy(vmlinux, os.path.join(root, "usr", "lib", "debug", "boot", "vmlinux-" + RELEASE))
mod_dir = os.path.join(root, "usr", "lib", "debug", "lib", "modules", RELEASE, "kernel", "drivers")
os.makedirs(mod_dir)
run(["cc", "-g", "-O1", "-c", "-o", os.path.join(mod_dir, "mod-conn.ko"), os.path.join(data, "module.c")])
cache = os.path.join(tmp, "cache")
p, sock = start(root, cache)
try:
    r, btf = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}})
    params = r.get("parameters", {})
    check(r.get("error") is None, "GetBtf from installed debug info answers: %s" % r)
    check(params.get("source") == "debuginfo", "its source is debuginfo: %s" % params)
    got = os.path.join(tmp, "got.btf"); open(got, "wb").write(btf)
    check(len(btf) > 0 and raw_dump(got) == raw_dump(direct), "btfd's BTF dumps as pahole's own output for the file")
    check(hashlib.sha256(btf).hexdigest() == params.get("sha256"), "the reply's sha256 is the fd's content's")
    r2, _ = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}})
    check(r2.get("parameters", {}).get("cached") is True, "asked again, it is a cache hit (pahole is not run again)")
    lk, _ = call(sock, "io.btfd.ListKernels")
    entries = [k for k in lk["parameters"]["kernels"] if k["kernel"]["release"] == RELEASE]
    check(len(entries) == 1 and entries[0]["source"] == "debuginfo", "ListKernels lists it as debuginfo: %s" % entries)
    origin = entries[0]["origin"] if entries else ""
    check(origin.startswith("pahole v") and ("/usr/lib/debug/boot/vmlinux-" + RELEASE) in origin
          and build_id(vmlinux) in origin, "its origin names pahole, the debug file and its build-id: %s" % origin)
    st, _ = call(sock, "io.btfd.Status")
    di = st["parameters"]["status"].get("debuginfo", {})
    check(di.get("generated") == 1 and RELEASE in di.get("last", "") and di.get("pahole_version", "").startswith("v"),
          "Status says what was generated from what: %s" % di)
    r, _ = call(sock, "io.btfd.GetBtf", {"kernel": {"release": "6.1.0-78-none"}})
    msg = r.get("parameters", {}).get("message", "")
    check(r.get("error") == "io.btfd.HubUnreachable" and "no hub mirrors are configured" in msg,
          "no debug info and the hub off: the hub's answer stays the error: %s" % r)
    check("/usr/lib/debug/boot/vmlinux-6.1.0-78-none" in msg and "/usr/lib/debug/lib/modules/6.1.0-78-none/vmlinux" in msg
          and "debuginfod off" in msg, "the error names every place looked in and debuginfod: %s" % msg)
    check(no_temp_files(cache) == [], "no temp files are left in the cache")

    # Prefetch (what a newly installed kernel gets) generates from an installed debug file too.
    shutil.copy(vmlinux, os.path.join(root, "usr", "lib", "debug", "boot", "vmlinux-6.1.0-79-test"))
    r, _ = call(sock, "io.btfd.Prefetch", {"kernel": {"release": "6.1.0-79-test"}})
    res = r.get("parameters", {}).get("result", {})
    check(res.get("source") == "debuginfo" and res.get("pinned") is True, "Prefetch generates from debug info: %s" % r)

    # Modules: split BTF over the kernel's, as pahole makes it with --btf_base.
    ko = os.path.join(mod_dir, "mod-conn.ko")
    mod_direct = os.path.join(tmp, "mod-direct.btf")
    run(["pahole", "--btf_base=" + direct, "--btf_encode_detached=" + mod_direct, ko])
    for attempt in ("fresh", "cached"):
        r, contents = call_all(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}, "modules": ["mod_conn"]})
        mods = r.get("parameters", {}).get("modules", [])
        check(r.get("error") is None and len(mods) == 1 and len(contents) == 2, "GetBtf with a module (%s): %s" % (attempt, r))
        if len(mods) == 1 and len(contents) == 2:
            m = mods[0]
            check(m["name"] == "mod_conn" and m["fd"] == 1 and m["cached"] == (attempt == "cached"),
                  "the module's entry names it, its fd and whether it was cached (%s): %s" % (attempt, m))
            check("mod-conn.ko" in m["origin"] and m["origin"].startswith("pahole v"), "its origin names the debug file: %s" % m)
            check(hashlib.sha256(contents[1]).hexdigest() == m["sha256"], "the module's sha256 is its fd's content's")
            modf = os.path.join(tmp, "mod-got.btf"); open(modf, "wb").write(contents[1])
            # bpftool reads split BTF with libbpf's btf__parse_split over the base.
            check(dump(got, modf) == dump(direct, mod_direct), "the module's split BTF is pahole's own over the kernel's")
            check("STRUCT 'mod_conn'" in dump(got, modf), "it describes the module's types")
    # btfctl get --module: each module's split BTF written to --module-dir as NAME.btf.
    mdir = os.path.join(tmp, "modules-out"); os.makedirs(mdir)
    ctl = [btfctl, "--socket", sock]
    q = subprocess.run(ctl + ["--json", "get", "--release", RELEASE, "--module", "mod_conn", "--module-dir", mdir,
                              "-o", os.path.join(tmp, "cli-kernel.btf")], capture_output=True, text=True, timeout=120)
    j = json.loads(q.stdout) if q.stdout.startswith("{") else {}
    mods = j.get("modules", [])
    wrote = os.path.join(mdir, "mod_conn.btf")
    check(q.returncode == 0 and len(mods) == 1 and mods[0].get("output") == wrote and "fd" not in mods[0],
          "btfctl get --module writes the module's split BTF as NAME.btf: %d %s %s" % (q.returncode, q.stdout, q.stderr))
    if os.path.exists(wrote):
        check(hashlib.sha256(open(wrote, "rb").read()).hexdigest() == mods[0].get("sha256") and
              dump(os.path.join(tmp, "cli-kernel.btf"), wrote) == dump(direct, mod_direct),
              "the file is the module's split BTF, pahole's own over the kernel's")
    q = subprocess.run(ctl + ["get", "--release", RELEASE, "--module", "mod_conn", "--module-dir", mdir],
                       capture_output=True, text=True, timeout=120)
    check(q.returncode == 0 and ("module:    mod_conn: " + wrote) in q.stdout, "the summary names the module's file: %s" % q.stdout)
    for args, why in ((["--module", "mod_conn"], "needs --module-dir"), (["--module-dir", mdir], "without --module"),
                      (["--module", "mod_conn", "--module-dir", mdir, "--object", btfd], "with --object")):
        q = subprocess.run(ctl + ["get", "--release", RELEASE] + args, capture_output=True, text=True, timeout=60)
        check(q.returncode == 2 and why in q.stderr, "btfctl get %s is a usage error: %d %s" % (" ".join(args), q.returncode, q.stderr))
    q = subprocess.run(ctl + ["get", "--release", RELEASE, "--module", "no_such_mod", "--module-dir", mdir],
                       capture_output=True, text=True, timeout=60)
    check(q.returncode != 0 and "no_such_mod" in q.stderr and not os.path.exists(os.path.join(mdir, "no_such_mod.btf")),
          "a module btfd has no debug info for is named, nothing written: %d %s" % (q.returncode, q.stderr))
    r, _ = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}, "modules": ["no_such_mod"]})
    msg = r.get("parameters", {}).get("message", "")
    check(r.get("error") == "io.btfd.KernelNotInHub" and "no debug info for module no_such_mod" in msg,
          "a module without a debug file is named: %s" % r)
    for bad, why in ((["../etc/passwd"], "modules[0]"), (["m%d" % i for i in range(17)], "at most 16"),
                     (["ok", "a.ko"], "modules[1]")):
        r, _ = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}, "modules": bad})
        check(r.get("error") == "org.varlink.service.InvalidParameter" and why in json.dumps(r),
              "module names are checked (%s): %s" % (why, r))

    # The libbpf oracle: a CO-RE object built against the generated types
    # relocates the same against btfd's minimized BTF as against pahole's.
    if os.geteuid() != 0: skip_not_root("the relocation oracle loads BPF")
    bpfdir = os.path.join(tmp, "bpf"); os.makedirs(bpfdir)
    open(os.path.join(bpfdir, "vmlinux.h"), "w").write(run(["bpftool", "btf", "dump", "file", got, "format", "c"]))
    obj = os.path.join(bpfdir, "probe.bpf.o")
    run(["clang", "-target", "bpf", "-g", "-O2", "-D__TARGET_ARCH_x86", "-I", bpfdir, "-c",
         os.path.join(here, "probe.bpf.c"), "-o", obj])
    fd = os.open(obj, os.O_RDONLY | os.O_CLOEXEC)
    r, mini = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}, "objects": [0]}, fds=[fd])
    fd2 = os.open(obj, os.O_RDONLY | os.O_CLOEXEC)
    r2, _ = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}, "objects": [0], "modules": ["mod_conn"]}, fds=[fd2])
    os.close(fd2)
    check(r2.get("error") == "org.varlink.service.InvalidParameter", "modules with objects are refused: %s" % r2)
    os.close(fd)
    check(r.get("parameters", {}).get("minimized") is True and r["parameters"].get("source") == "debuginfo",
          "minimized for the object, from the generated kernel: %s" % r)
    minif = os.path.join(tmp, "mini.btf"); open(minif, "wb").write(mini)
    def relos(target):
        out = subprocess.run([oracle, obj, target], capture_output=True, text=True, timeout=120)
        if "Operation not permitted" in out.stderr: skip_no_bpf("bpf(2) for the oracle")
        return core_relocations(out.stdout)
    want, have = relos(direct), relos(minif)
    check(len(want) >= 7, "the oracle saw the object's relocations against pahole's BTF: %s" % want)
    check(all("patched" in str(x) or "substituting" in str(x) for x in want), "every relocation resolves: %s" % want)
    check(want == have, "the same relocations against btfd's BTF as against pahole's:\n%s\n%s" % (want, have))
finally:
    stop(p)

# --- debuginfod -------------------------------------------------------------
other = os.path.join(tmp, "vmlinux-other")
build_kernel(other, ["-DBTFD_OTHER_BUILD=1", "-O2"])
mode = {"serve": "ok"}
served = []
class Debuginfod(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        served.append(self.path)
        want = "/buildid/%s/debuginfo" % build_id(vmlinux)
        if self.path != want:
            self.send_response(404); self.end_headers(); return
        body = {"ok": lambda: open(vmlinux, "rb").read(),
                "big": lambda: b"\x7fELF" + b"\0" * (3 << 20),
                "wrong": lambda: open(other, "rb").read(),
                "garbage": lambda: os.urandom(50000)}[mode["serve"]]()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        try: self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Debuginfod)
threading.Thread(target=srv.serve_forever, daemon=True).start()
url = "http://127.0.0.1:%d" % srv.server_address[1]
running = os.uname().release
root2 = host_root("debuginfod", notes_from=vmlinux)
cache2 = os.path.join(tmp, "cache2")
# btfd prefetches a running kernel without BTF of its own as it starts: that
# try meets the first bad answer too, and is over before the calls below
# (else it could store a good answer while the test means a bad one).
mode["serve"] = "garbage"
p, sock = start(root2, cache2, "[Debuginfod]\nURLs=%s\nMaxSize=1M\n" % url)
try:
    for _ in range(1000):
        if served and no_temp_files(cache2) == []: break
        time.sleep(0.01)
    check(len(served) >= 1, "btfd asked debuginfod for the running kernel as it started: %s" % served)
    def host_kernels():
        lk, _ = call(sock, "io.btfd.ListKernels")
        return [k for k in lk["parameters"]["kernels"] if k["kernel"]["release"] == running]
    for serve, words in (("garbage", "not an ELF"), ("wrong", "not the " + build_id(vmlinux)), ("big", "1048576")):
        mode["serve"] = serve
        r, _ = call(sock, "io.btfd.GetBtf")
        msg = r.get("parameters", {}).get("message", "")
        check(r.get("error") in ("io.btfd.HubRejected", "io.btfd.TooLarge"), "a %s debuginfod answer is refused: %s" % (serve, r))
        check(words in msg and url in msg, "the %s answer's error says so and names the server: %s" % (serve, msg))
        check(host_kernels() == [], "nothing is stored from a %s answer" % serve)
        check(no_temp_files(cache2) == [], "no download is left behind after a %s answer" % serve)
    mode["serve"] = "ok"
    r, btf = call(sock, "io.btfd.GetBtf")
    params = r.get("parameters", {})
    check(params.get("source") == "debuginfo", "the running kernel's BTF from debuginfo by build-id: %s" % r)
    got2 = os.path.join(tmp, "got2.btf"); open(got2, "wb").write(btf)
    check(len(btf) > 0 and raw_dump(got2) == raw_dump(direct), "debuginfod's file gives pahole's own BTF")
    check(("/buildid/%s/debuginfo" % build_id(vmlinux)) in served, "btfd asked by the running kernel's build-id: %s" % served)
    ks = host_kernels()
    check(len(ks) == 1 and url in ks[0]["origin"] and build_id(vmlinux) in ks[0]["origin"],
          "its origin names the server and the build-id: %s" % ks)
    r, _ = call(sock, "io.btfd.GetBtf", {"kernel": {"release": RELEASE}})
    msg = r.get("parameters", {}).get("message", "")
    check(r.get("error") == "io.btfd.HubUnreachable" and "only the running kernel's build-id is known" in msg,
          "another release is not asked of debuginfod (its build-id is unknown): %s" % msg)
finally:
    stop(p)
    srv.shutdown()
shutil.rmtree(tmp, ignore_errors=True)
finish()
