#!/usr/bin/env python3
# btfctl as a user meets it (issue 16), against a real btfd on a temp socket and
# loopback hubs serving the repo's btfhub fixtures:
#  - exit codes: 4 only for "no BTF for that kernel"; local file errors are 1
#    and name the path the user gave;
#  - object errors name --object PATH (btfd says which object by index);
#  - no doubled prefixes ("HubUnreachable: hub unreachable: ...");
#  - get's download progress: a bar on a terminal (a pty), nothing per chunk off one;
#  - one shape for the host in host --json and status --json; stats as text;
#    -q quiets every command; -o - writes the BTF to stdout; partial kernel
#    identities are usage errors; help --help; per-command --help names every
#    flag (the ones bash completion and btfctl(1) know); typos get a suggestion;
#  - list shows the object names clients gave (sanitised, bounded);
#  - a user who cannot read btfd's cache file is told to use -o (as nobody).
import atexit, hashlib, json, os, pty, pwd, re, select, shutil, signal, subprocess, sys, tempfile, time
import http.server
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, finish, serve_dir, hub_dir, source_root

btfd, btfctl, obj = sys.argv[1:4]
hubdir = hub_dir()
tmp = tempfile.mkdtemp(prefix="btfd-ux-test-")
os.chmod(tmp, 0o755)
procs = []

@atexit.register
def stop_daemons():
    for d in procs:
        if d.poll() is None:
            d.kill(); d.wait()

def start_btfd(name, mirror, *extra):
    sock = os.path.join(tmp, name + ".sock")
    d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, name + "-cache"), "--idle-exit", "0",
                          "--mirror", mirror, *extra], stderr=subprocess.DEVNULL)
    procs.append(d)
    varlink.wait_for_socket(sock, d)
    return sock

def run(sock, *args, user=None, stdin=None):
    cmd = [btfctl, "--socket", sock, *args]
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", *cmd]
    p = subprocess.run(cmd, capture_output=True, timeout=120, stdin=stdin)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), p.stdout

def doubled(message):
    """True when "Name: text" repeats the name in the text ("HubUnreachable:
    hub unreachable", "Internal: internal error")."""
    m = re.search(r"\b([A-Z][a-z]+(?:[A-Z][a-z]+)+)(?: \"[^\"]*\")?: (.*)", message)
    if not m:
        return False
    words = [w.lower() for w in re.findall(r"[A-Z][a-z]+", m.group(1))]
    rest = m.group(2).lower()
    return rest.startswith(" ".join(words)) or rest.startswith(words[0] + " ")

errors_seen = []  # every error line btfctl printed, checked for doubling at the end
def err_of(rc, out, err):
    if err.strip():
        errors_seen.append(err.strip())
    return err

srv, mirror = serve_dir(hubdir)
sock = start_btfd("main", mirror)
kernel = ["--distro", "ubuntu", "--distro-version", "20.04", "--arch", "x86_64", "--release", "5.4.0-26-generic"]

# 1. Exit codes and local file errors naming the user's path.
rc, out, err, _ = run(sock, "get", *kernel, "-o", "/nonexistent/dir/x")
err_of(rc, out, err)
check(rc == 1 and "/nonexistent/dir/x" in err and ".tmp" not in err and "tmp." not in err,
      "get -o into a missing directory: exit 1 naming the path: rc=%d %r" % (rc, err))
rc, out, err, _ = run(sock, "minimize", "/nonexistent/vmlinux", obj, "-o", os.path.join(tmp, "m.btf"))
err_of(rc, out, err)
check(rc == 1 and "/nonexistent/vmlinux" in err, "minimize with a missing file: exit 1 naming it: rc=%d %r" % (rc, err))
rc, out, err, _ = run(sock, "minimize", os.path.join(tmp, "nope.btf"), "/nonexistent/x.o", "-o", os.path.join(tmp, "m.btf"))
check(rc == 1 and "/nonexistent/x.o" in err, "minimize with a missing object: exit 1 naming it: rc=%d %r" % (rc, err))
rc, out, err, _ = run(sock, "host", "--host-root", "/nonexistent")
err_of(rc, out, err)
check(rc == 1 and "/nonexistent" in err, "host --host-root /nonexistent: exit 1 naming it: rc=%d %r" % (rc, err))
rc, out, err, _ = run(sock, "--json", "host", "--host-root", "/nonexistent")
check(rc == 1 and "/nonexistent" in json.loads(out)["error"]["message"], "host error as JSON: %s" % out)
rc, out, err, _ = run(sock, "get", "--release", "0.0-none")
err_of(rc, out, err)
check(rc == 4 and "no mirror has BTF" in err, "a kernel the hub lacks is exit 4: rc=%d %r" % (rc, err))
rc, out, err, _ = run(sock, "get", "--object", "/nonexistent/x.o")
check(rc == 1 and "--object /nonexistent/x.o" in err, "a missing --object file is exit 1: rc=%d %r" % (rc, err))

# 2. Object errors name the object the user gave.
rc, out, err, _ = run(sock, "get", *kernel, "--object", "/etc/passwd")
err_of(rc, out, err)
check(rc == 1 and "--object /etc/passwd: not an ELF file" in err and "object #" not in err
      and not re.search(r"[0-9a-f]{12}", err), "not an ELF file names --object PATH: rc=%d %r" % (rc, err))
rc, out, err, _ = run(sock, "get", *kernel, "--object", obj, "--object", "/etc/passwd")
check(rc == 1 and "--object /etc/passwd:" in err and obj not in err,
      "the second of two objects is the one named: %r" % err)
rc, out, err, _ = run(sock, "get", *kernel, "--object", "/etc/passwd", "--object", obj)
check(rc == 1 and "--object /etc/passwd:" in err, "the first of two objects is the one named: %r" % err)
rc, out, err, _ = run(sock, "get", *kernel, "--object", obj, "--object", "/dev/null")
err_of(rc, out, err)
check(rc == 1 and "--object /dev/null" in err and "object #" not in err,
      "an object btfd refuses to read (a device) is named too: %r" % err)
rc, out, err, _ = run(sock, "--json", "get", *kernel, "--object", obj, "--object", "/etc/passwd")
j = json.loads(out)["error"] if out.strip() else {}
check(rc == 1 and j.get("object") == "/etc/passwd" and j.get("name") == "io.btfd.InvalidObject",
      "the JSON error names the object and btfd's error: %s" % out)
# On the wire: the index of the object, the message beginning "object #N".
c = varlink.Conn(sock)
with open(obj, "rb") as good, open("/etc/passwd", "rb") as bad:
    r, _ = c.call("io.btfd.GetBtf", {"kernel": {"distro": "ubuntu", "version": "20.04", "arch": "x86_64",
                                                "release": "5.4.0-26-generic"}, "objects": [0, 1]},
                  fds=[good.fileno(), bad.fileno()])
c.close()
check(r.get("error") == "io.btfd.InvalidObject" and r["parameters"].get("object") == 1
      and r["parameters"]["message"].startswith("object #1"), "GetBtf's error carries the object's index: %s" % r)

rc, out, err, _ = run(sock, "get", *kernel, *(["--object", obj] * 17))
err_of(rc, out, err)
check(rc == 1 and "17 objects; btfd takes at most 16" in err, "a limit names itself: rc=%d %r" % (rc, err))

# 3. No doubled prefixes: a hub that cannot be reached, a permission denial.
dead = start_btfd("dead", "http://127.0.0.1:9/")
rc, out, err, _ = run(dead, "get", "--release", "9.9-unreachable")
err_of(rc, out, err)
check(rc == 1 and "HubUnreachable" in err and "127.0.0.1:9" in err, "hub unreachable: rc=%d %r" % (rc, err))
if os.geteuid() == 0:
    rc, out, err, _ = run(sock, "gc", user=pwd.getpwnam("nobody").pw_uid)
    err_of(rc, out, err)
    check(rc == 1 and "PermissionDenied" in err, "gc as nobody is denied: %r" % err)

# 4. get's progress: nothing per chunk off a terminal; a bar on one.
class Slow(http.server.SimpleHTTPRequestHandler):
    def copyfile(self, src, dst):
        while True:
            chunk = src.read(32 * 1024)
            if not chunk:
                return
            dst.write(chunk); dst.flush()
            time.sleep(0.1)
slow_srv, slow_mirror = serve_dir(hubdir, handler_base=Slow)
slow = start_btfd("slow", slow_mirror)
rc, out, err, _ = run(slow, "get", "--distro", "ubuntu", "--distro-version", "20.04", "--release", "5.11.0-1028-gcp")
check(rc == 0 and "source:    hub" in out, "a slow download completes: rc=%d %s %r" % (rc, out, err))
check("downloaded" not in err and "\r" not in err and "#" not in err and err.strip() == "",
      "off a terminal, get prints no progress: %r" % err)
def get_on_tty(*args):
    """btfctl get on a terminal: (exit status, what the terminal showed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([btfctl, "--socket", slow, "get", *args], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    deadline = time.time() + 90
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            shown += data
        elif p.poll() is not None:
            break
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, shown.decode(errors="replace")
rc, tty_text = get_on_tty("--distro", "debian", "--distro-version", "10", "--release", "4.19.0-17-amd64")
check(rc == 0, "get on a terminal succeeds: %d" % rc)
check(tty_text.count("\r[") >= 2 and "#" in tty_text and " / " in tty_text,
      "on a terminal, get draws a progress bar: %r" % tty_text[:400])
# The bar ends full, at the real total (the last progress reply may come
# before the last bytes do).
last = tty_text.rsplit("\r[", 1)[-1]  # a terminal shows "\n" as "\r\n"
m = re.match(r"(#+)\] (\S+ \S+) / (\S+ \S+)", last)
check(m and len(m.group(1)) == 40 and m.group(2) == m.group(3), "the bar ends full at the total: %r" % last[:120])
# A kernel the mirror lacks: its 404 page is not a download.
rc, tty_text = get_on_tty("--distro", "debian", "--distro-version", "10", "--release", "4.19.0-99-none")
check(rc == 4 and "downloaded" not in tty_text and "#" not in tty_text,
      "a 404 shows no progress before KernelNotInHub: %d %r" % (rc, tty_text[:300]))

# 5. One shape for the host; stats text; -q; -o -; partial identities; help.
rc, out, _, _ = run(sock, "--json", "host")
h = json.loads(out) if rc == 0 else {}
rc2, out2, _, _ = run(sock, "--json", "status")
s = json.loads(out2) if rc2 == 0 else {}
for field in ("host", "host_exact", "native_btf"):
    check(field in h and field in s and type(h[field]) is type(s[field]),
          "host and status share %s with one type: %r vs %r" % (field, h.get(field), s.get(field)))
check(h.get("host") == s.get("host") and h.get("host_exact") == s.get("host_exact")
      and h.get("native_btf") == s.get("native_btf"), "host --json and status --json agree: %s / %s" % (h, s))
check(set(h.get("host", {})) == {"distro", "version", "arch", "release"}, "host is a Kernel: %s" % h)

rc, out, err, _ = run(sock, "stats")
is_json = True
try:
    json.loads(out)
except ValueError:
    is_json = False
check(rc == 0 and not is_json and "io.btfd.GetBtf" in out, "stats is text by default: %s" % out[:300])
rc, out, err, _ = run(sock, "--json", "stats")
check(rc == 0 and "requests" in json.dumps(json.loads(out)), "stats --json is JSON: %s" % out[:200])

quiet_cmds = [["get", *kernel], ["get", *kernel, "--object", obj, "-o", os.path.join(tmp, "q.btf")], ["list"],
              ["status"], ["stats"], ["stats", "--prometheus"], ["gc"], ["verify"], ["host"],
              ["prefetch", *kernel], ["refresh"],
              ["minimize", os.path.join(tmp, "full.btf"), obj, "-o", os.path.join(tmp, "qm.btf")]]
rc, _, _, _ = run(sock, "get", *kernel, "-o", os.path.join(tmp, "full.btf"))
for args in quiet_cmds:
    for q in (["-q"], ["--quiet"]):
        rc, out, err, _ = run(sock, *q, *args)
        # refresh may fail for this host's kernel (not in the fixtures): only its silence matters.
        check((rc == 0 or args[0] == "refresh") and out == "" and (err == "" or rc != 0),
              "%s %s prints nothing: rc=%d out=%r err=%r" % (q[0], " ".join(args[:2]), rc, out[:200], err[:200]))
# Not in the hub for a distro btfd's table does not know: the way out is an alias.
rc, out, err, _ = run(sock, "get", "--distro", "rocky", "--distro-version", "9", "--release", "5.14.0-1")
check(rc == 4 and "[Distro] Alias=rocky rhel" in err, "an unknown distro's miss hints at an alias: %d %r" % (rc, err))
rc, out, err, _ = run(sock, "get", "--distro", "ubuntu", "--distro-version", "20.04", "--release", "5.4.0-99-none")
check(rc == 4 and "Alias=" not in err, "a known distro's miss does not: %r" % err)
rc, out, err, _ = run(sock, "-q", "get", "--release", "0.0-none")
check(rc == 4 and "no mirror has BTF" in err, "-q still prints errors: %r" % err)

rc, out, err, raw = run(sock, "get", *kernel, "-o", "-")
want = hashlib.sha256(open(os.path.join(tmp, "full.btf"), "rb").read()).hexdigest()
check(rc == 0 and hashlib.sha256(raw).hexdigest() == want and "kernel:" in err,
      "get -o - writes the BTF to stdout, the summary to stderr: rc=%d %d bytes %r" % (rc, len(raw), err[:200]))
rc, out, err, raw = run(sock, "minimize", os.path.join(tmp, "full.btf"), obj, "-o", "-")
check(rc == 0 and raw[:2] == b"\x9f\xeb" and len(raw) == os.path.getsize(os.path.join(tmp, "q.btf")),
      "minimize -o - writes the BTF to stdout: rc=%d %d bytes" % (rc, len(raw)))

for partial in (["--distro", "ubuntu", "--release", "5.4.0-26-generic"],
                ["--distro-version", "20.04", "--release", "5.4.0-26-generic"],
                ["--distro", "ubuntu", "--distro-version", "20.04"],
                ["--arch", "x86_64"]):
    for cmd in ("get", "prefetch"):
        rc, out, err, _ = run(sock, cmd, *partial)
        check(rc == 2 and "needs" in err, "%s %s is a usage error: rc=%d %r" % (cmd, " ".join(partial), rc, err))
rc, out, err, _ = run(sock, "--json", "get", "--distro", "ubuntu", "--release", "x")
check(rc == 2 and json.loads(out)["error"]["code"] == "usage", "a usage error as JSON: %s" % out)

# Global options after the command too; btfctl version.
rc, out, err, _ = run(sock, "status")
p = subprocess.run([btfctl, "status", "--socket", sock], capture_output=True, text=True, timeout=60)
# The uptime may tick between the two calls; everything else must be the same.
def _steady(text):
    return re.sub(r", up \d+s", ", up Ns", text)
check(p.returncode == 0 and out and _steady(p.stdout) == _steady(out),
      "status --socket PATH is --socket PATH status: %d %r" % (p.returncode, p.stderr))
p = subprocess.run([btfctl, "version", "--json", "--socket", sock], capture_output=True, text=True, timeout=60)
v = json.loads(p.stdout) if p.returncode == 0 else {}
check(v.get("btfd") and v.get("btfctl") == v.get("btfd") and v.get("socket") == sock,
      "btfctl version names both versions: %s %s" % (p.stdout, p.stderr))
p = subprocess.run([btfctl, "version", "--socket", os.path.join(tmp, "nobody-here")], capture_output=True, text=True,
                   timeout=60)
check(p.returncode == 0 and "btfctl " in p.stdout and "btfd: not reachable" in p.stdout and "systemctl" not in p.stdout,
      "btfctl version without a btfd says so: %r" % p.stdout)

rc, out, err, _ = run(sock, "help", "--help")
check(rc == 0 and "Usage: btfctl help" in out, "help --help: rc=%d %r %r" % (rc, out, err))
rc, out, err, _ = run(sock, "stattus")
check(rc == 2 and "did you mean 'status'?" in err, "a typo suggests the command: %r" % err)
rc, out, err, _ = run(sock, "lsit")
check(rc == 2 and "did you mean 'list'?" in err, "a transposition suggests the command: %r" % err)
rc, out, err, _ = run(sock, "help", "gett")
check(rc == 2 and "did you mean 'get'?" in err, "help with a typo suggests: %r" % err)
rc, out, err, _ = run(sock, "frobnicate")
check(rc == 2 and "did you mean" not in err, "nothing close, no suggestion: %r" % err)

# Every command has --help; for the commands of this issue, every flag bash
# completion offers is described by the command's --help and by btfctl(1).
completion = open(os.path.join(source_root(), "cli", "completion", "btfctl.bash")).read()
manpage = open(os.path.join(source_root(), "docs", "man", "btfctl.1.scd")).read()
cases = {}
for pattern, words in re.findall(r"^\t\t([a-z|]+)\) (.*)$", completion, re.M):
    for name in pattern.split("|"):
        cases[name] = words
rc, out, _, _ = run(sock, "help")
commands = re.findall(r"^  ([a-z-]+) ", out, re.M)
check(len(commands) >= 10, "help lists the commands: %s" % commands)
for cmd in commands:
    rc, out, err, _ = run(sock, cmd, "--help")
    check(rc == 0 and out.startswith("Usage: btfctl"), "%s --help: rc=%d %r" % (cmd, rc, err))
    check(cmd in cases, "bash completion knows %s" % cmd)
    if cmd not in ("get", "list", "prefetch", "refresh", "status", "stats", "gc", "verify", "minimize", "host"):
        continue
    for flag in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", cases.get(cmd, "")):
        if flag in ("--json", "--help", "--quiet", "-j", "-q", "-h", "--pretty", "-p"):
            continue
        check(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(flag), out), "%s --help describes %s" % (cmd, flag))
        check(flag.replace("-", r"\-") in manpage or flag in manpage, "btfctl(1) describes %s %s" % (cmd, flag))

# 6. list shows object names (sanitised, bounded).
rc, out, err, _ = run(sock, "get", *kernel, "--object", obj)
rc, out, err, _ = run(sock, "list")
base = os.path.basename(obj)
check(rc == 0 and re.search(r"object %s " % re.escape(base), out), "list names the object: %s" % out)
check(re.search(r"^  [0-9a-f]{16} +ubuntu/20\.04/x86_64/5\.4\.0-26-generic +\S+ \S+ +%s$" % re.escape(base), out, re.M),
      "list names a minimized entry's kernel and objects: %s" % out)
check(re.search(r"^\d+ minimized entr(y|ies), 1 remembered object$", out, re.M), "list counts in words that fit: %s" % out)
rc, out, err, _ = run(sock, "--json", "list")
names = [o.get("name") for o in json.loads(out)["objects"]]
check(base in names, "ListKernels carries the name: %s" % names)
nasty = os.path.join(tmp, "kinds.o")
shutil.copy(obj, nasty)
with open(nasty, "ab") as f:
    f.write(b"\0")  # another digest: its own row
c = varlink.Conn(sock)
kern = {"distro": "ubuntu", "version": "20.04", "arch": "x86_64", "release": "5.4.0-26-generic"}
with open(nasty, "rb") as f:
    r, _ = c.call("io.btfd.GetBtf", {"kernel": kern, "objects": [0], "names": ["../../etc/\x1b[31mevil\nname\x7f\u009b\u202e"]},
                  fds=[f.fileno()])
    check("error" not in r, "a hostile name is accepted, sanitised: %s" % r)
    r, _ = c.call("io.btfd.GetBtf", {"kernel": kern, "objects": [0], "names": ["x" * 256]}, fds=[f.fileno()])
    check(r.get("error") == "org.varlink.service.InvalidParameter" and r["parameters"].get("parameter") == "names[0]",
          "a name past 255 bytes is refused: %s" % r)
    r, _ = c.call("io.btfd.GetBtf", {"kernel": kern, "objects": [0], "names": ["a", "b"]}, fds=[f.fileno()])
    check(r.get("error") == "org.varlink.service.InvalidParameter" and r["parameters"].get("parameter") == "names",
          "more names than objects is refused: %s" % r)
    r, _ = c.call("io.btfd.GetBtf", {"kernel": kern, "objects": [0], "names": [5]}, fds=[f.fileno()])
    check(r.get("error") == "org.varlink.service.InvalidParameter", "a name that is not a string is refused: %s" % r)
    r, _ = c.call("io.btfd.ListKernels", {})
c.close()
stored = [o.get("name") for o in r["parameters"]["objects"]]
# C1 (U+009B, a one-byte CSI) and bidi overrides (U+202E) are controls too.
check("?[31mevil?name???" in stored, "the hostile name is kept as a printable base name: %s" % stored)

# 7. A user who cannot read btfd's cache: no path, -o instead (as nobody).
if os.geteuid() == 0:
    os.chmod(os.path.join(tmp, "main-cache"), 0o700)
    nobody = pwd.getpwnam("nobody").pw_uid
    rc, out, err, _ = run(sock, "get", *kernel, user=nobody)
    check(rc == 0 and "use -o FILE" in out and "main-cache" not in out, "nobody is told to use -o: %r %r" % (out, err))
    rc, out, err, _ = run(sock, "--json", "get", *kernel, user=nobody)
    check(rc == 0 and json.loads(out).get("path") is None, "nobody's JSON has no path: %s" % out)
    dst = os.path.join(tmp, "nobody-out")
    os.mkdir(dst); os.chown(dst, nobody, -1)
    rc, out, err, _ = run(sock, "get", *kernel, "-o", os.path.join(dst, "x.btf"), user=nobody)
    check(rc == 0 and os.path.getsize(os.path.join(dst, "x.btf")) > 0, "nobody gets the bytes with -o: %r" % err)
    os.chmod(os.path.join(tmp, "main-cache"), 0o755)
rc, out, err, _ = run(sock, "get", *kernel)
check(rc == 0 and os.path.join(tmp, "main-cache") in out, "a caller who can read the cache gets its path: %s" % out)

# check, gen and mirror run in btfctl-archive: btfctl itself loads neither
# libcurl nor libarchive, and a missing btfctl-archive is named.
libs = subprocess.run(["ldd", btfctl], capture_output=True, text=True).stdout
check("libbpf" in libs and "libcurl" not in libs and "libarchive" not in libs and "libcrypto" not in libs,
      "btfctl links neither libcurl nor libarchive, and loads libcrypto only to hash: %s"
      % " ".join(l.split()[0] for l in libs.splitlines()))
p = subprocess.run([btfctl, "--json", "check", obj, "--from", "/nonexistent"], capture_output=True, text=True,
                   env=dict(os.environ, BTFCTL_ARCHIVE_TOOL=os.path.join(tmp, "no-such-tool")))
check(p.returncode == 1 and "no-such-tool" in p.stdout and "check" in p.stdout,
      "a missing btfctl-archive: exit 1, named: %d %r %r" % (p.returncode, p.stdout, p.stderr))
# Global options before or after the command reach btfctl-archive.
for args in (["-q", "mirror", "sync", hubdir, os.path.join(tmp, "site1")],
             ["mirror", "sync", hubdir, os.path.join(tmp, "site2"), "--quiet"]):
    p = subprocess.run([btfctl] + args, capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout == "" and os.path.isdir(args[-1] if args[-1] != "--quiet" else args[-2]),
          "%s: runs in btfctl-archive, quiet: %d %r %r" % (args, p.returncode, p.stdout, p.stderr))
p = subprocess.run([btfctl, "mirror", "sync", hubdir, os.path.join(tmp, "site3"), "--json"], capture_output=True, text=True)
check(p.returncode == 0 and json.loads(p.stdout or "{}").get("kernels", 0) > 0,
      "--json after the command reaches btfctl-archive: %r" % p.stdout[:200])

for e in errors_seen:
    check(not doubled(e), "no doubled prefix: %r" % e)

for d in procs:
    d.send_signal(signal.SIGTERM); d.wait(timeout=20)
srv.shutdown(); slow_srv.shutdown()
shutil.rmtree(tmp)
finish()
