#!/usr/bin/env python3
# Every btfctl subcommand against a real btfd (loopback hub serving the repo's
# btfhub fixtures), in text and --json, with its errors and exit codes; and the access
# policy (a test of its own, 'btfctl-access-policy', as root): an unprivileged
# peer may get BTF but not prefetch, refresh or gc.
import json, os, pwd, re, shutil, signal, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, fatal, finish, serve_dir, hub_dir, skip_not_root

btfd, btfctl, obj = sys.argv[1:4]
# "access-policy": only the SO_PEERCRED checks, run as another user through
# setpriv; a test of its own so that a non-root run counts it as skipped.
mode = sys.argv[4] if len(sys.argv) > 4 else "commands"
if mode == "access-policy":
    if os.geteuid() != 0:
        skip_not_root("the access policy is checked as user nobody through setpriv")
    if not shutil.which("setpriv"):
        fatal("setpriv (util-linux) is missing")
hubdir = hub_dir()
tmp = tempfile.mkdtemp(prefix="btfd-cli-test-")
os.chmod(tmp, 0o755)
srv, mirror = serve_dir(hubdir)
sock = os.path.join(tmp, "s")
d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "c"), "--idle-exit", "0",
                      "--mirror", mirror], stderr=subprocess.DEVNULL)

def run(*args, user=None):
    cmd = [btfctl, "--socket", sock, *args]
    if user:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr

kernel = ["--distro", "ubuntu", "--distro-version", "20.04", "--arch", "x86_64", "--release", "5.4.0-26-generic"]
def commands():
    rc, out, _ = run("get", *kernel)
    check(rc == 0 and "source:    hub" in out, "get text: %s" % out)
    rc, out, _ = run("--json", "get", *kernel, "--object", obj, "-o", os.path.join(tmp, "min.btf"))
    j = json.loads(out)
    check(rc == 0 and j["minimized"] and j["output"].endswith("min.btf") and os.path.getsize(j["output"]) == j["size"], "get json: %s" % out)
    rc, out, err = run("--quiet", "get", *kernel)
    check(rc == 0 and out == "" and err == "", "get --quiet prints nothing: %r %r" % (out, err))
    rc, out, _ = run("get", *kernel)
    check(rc == 0 and "btf:       " + os.path.join(tmp, "c") in out, "get prints the cache path it may read: %s" % out)
    rc, out, err = run("get", "--release", "0.0-none")
    check(rc == 4 and "KernelNotInHub" in err, "get unknown kernel: rc=%d %s" % (rc, err))
    rc, out, _ = run("--json", "get", "--release", "0.0-none")
    check(rc == 4 and json.loads(out)["error"]["code"] == "not-in-hub", "get error as json: %s" % out)
    rc, out, err = run("get", "--object", "/nonexistent.o")
    check(rc == 1 and "nonexistent" in err, "get missing object file: rc=%d %s" % (rc, err))
    rc, out, _ = run("list")
    check(rc == 0 and "5.4.0-26-generic" in out and re.search(r"remembered objects?\b", out), "list text: %s" % out)
    rc, out, _ = run("--json", "list")
    check(rc == 0 and len(json.loads(out)["objects"]) == 1, "list json: %s" % out)
    rc, out, _ = run("status")
    check(rc == 0 and "cache:" in out and "mirror:" in out, "status text: %s" % out)
    rc, out, _ = run("--json", "status")
    check(rc == 0 and json.loads(out)["cache"]["kernels"] >= 1, "status json: %s" % out)
    rc, out, _ = run("stats")
    check(rc == 0 and "io.btfd.GetBtf" in out, "stats: %s" % out[:200])
    rc, out, _ = run("stats", "--prometheus")
    check(rc == 0 and "btfd_hub_fetches_total 1" in out, "stats --prometheus: %s" % out[:300])
    rc, out, _ = run("prefetch", "--distro", "ubuntu", "--distro-version", "20.04", "--release", "5.11.0-1028-gcp")
    check(rc == 0 and "fetched" in out, "prefetch text: %s" % out)
    rc, out, _ = run("--json", "gc")
    check(rc == 0 and "freed_bytes" in json.loads(out), "gc json: %s" % out)
    rc, out, err = run("frobnicate")
    check(rc == 2, "unknown command exits 2")
    rc, out, err = run("get", "--distro")
    check(rc == 2 and "needs a value" in err, "usage error: %s" % err)

def access_policy():
    # Access policy through SO_PEERCRED: nobody may get BTF but not prefetch, refresh or gc.
    nobody = pwd.getpwnam("nobody").pw_uid
    rc, out, err = run("get", *kernel, user=nobody)
    check(rc == 0, "unprivileged get: %s" % err)
    rc, out, err = run("gc", user=nobody)
    check(rc == 1 and "PermissionDenied" in err, "unprivileged gc refused: rc=%d %s" % (rc, err))
    rc, out, err = run("prefetch", "--release", "x", user=nobody)
    check(rc == 1 and "PermissionDenied" in err, "unprivileged prefetch refused: %s" % err)
    rc, out, err = run("refresh", user=nobody)
    check(rc == 1 and "PermissionDenied" in err, "unprivileged refresh refused: %s" % err)

try:
    varlink.wait_for_socket(sock, d)
    if mode == "access-policy":
        access_policy()
    else:
        commands()
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=20)
# btfd not running at all.
rc, out, err = run("status")
check(rc == 3 and "cannot connect" in err, "daemon unreachable exits 3: %s" % err)
rc, out, _ = run("--json", "status")
check(rc == 3 and json.loads(out)["error"]["code"] == "unreachable", "unreachable as json: %s" % out)
srv.shutdown()
shutil.rmtree(tmp)
finish()
