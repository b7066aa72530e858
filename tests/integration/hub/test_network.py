#!/usr/bin/env python3
# btfd.conf's network options against real servers on loopback, each shown to
# be needed (the fetch fails without it, with an error naming what is missing)
# and sufficient: an HTTPS mirror with a test CA that requires a client
# certificate (certificates made here with the openssl CLI), a forward proxy
# (CONNECT and plain HTTP proxying) for a mirror whose name only the proxy
# knows, NoProxy=, a mirror requiring a bearer token and one requiring basic
# auth (also as a systemd credential by name), [Mirror "PREFIX"] sections
# applying to their mirror only; secrets never in btfd's log, Status or Stats;
# SHA256SUMS asked for conditionally (304 on the second fetch, by ETag and by
# Last-Modified; counted at the server).
import base64, hashlib, http.client, http.server, json, os, select, shutil, signal, socket, ssl, subprocess, sys
import tempfile, threading, time, urllib.parse
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, combined_hub_dir, fatal, finish, source_root

btfd = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="btfd-network-test-")
sock = os.path.join(tmp, "btfd.sock")
mirror_dir = combined_hub_dir(tmp)
TOKEN = "tok-" + os.urandom(12).hex()
USER, PASSWORD = "fleet", "pw-" + os.urandom(12).hex()
HOSTNAME = "btf-mirror.test"  # resolvable only by the test's proxy

# --- certificates: a test CA, the mirror's certificate, a client certificate ---
def openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=tmp)
    if p.returncode != 0:
        fatal("openssl %s: %s" % (" ".join(args), p.stderr))

def ec_key(name):
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", name + ".key")

ec_key("ca")
openssl("req", "-x509", "-new", "-key", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=btfd test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
def signed(name, cn, ext):
    ec_key(name)
    openssl("req", "-new", "-key", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
    open(os.path.join(tmp, name + ".ext"), "w").write(ext + "\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    return os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".key")
server_pem, server_key = signed("server", HOSTNAME, "subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth" % HOSTNAME)
client_pem, client_key = signed("client", "btfd fleet host", "extendedKeyUsage=clientAuth")
ca_pem = os.path.join(tmp, "ca.pem")
# A CA that signed nothing here: trusting it is not enough.
ec_key("other")
openssl("req", "-x509", "-new", "-key", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=other CA")

# --- servers ---
seen = []  # (server, method, path, status, headers) for every request any server answered
seen_mu = threading.Lock()

def mirror_server(name, tls=False, auth=None, etag=False, client_cert=True, redirects=None):
    """Serves mirror_dir; auth: None, ("bearer", token) or ("basic", "user:password");
    redirects: {prefix: function(rest of the path) -> Location}."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw): super().__init__(*a, directory=mirror_dir, **kw)
        def log_message(self, *a): pass
        def send_response(self, code, message=None):
            with seen_mu:
                seen.append((name, self.command, self.path, code, dict(self.headers)))
            super().send_response(code, message)
        def do_GET(self):
            for prefix, where in (redirects or {}).items():
                if self.path.startswith(prefix):
                    self.send_response(302); self.send_header("Location", where(self.path[len(prefix):]))
                    self.send_header("Content-Length", "0"); self.end_headers(); return
            if auth:
                want = "Bearer " + auth[1] if auth[0] == "bearer" else "Basic " + base64.b64encode(auth[1].encode()).decode()
                if self.headers.get("Authorization") != want:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", "Bearer" if auth[0] == "bearer" else 'Basic realm="btf"')
                    self.send_header("Content-Length", "0"); self.end_headers(); return
            if etag and self.path.endswith("/SHA256SUMS"):
                body = open(os.path.join(mirror_dir, "SHA256SUMS"), "rb").read()
                tag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
                if self.headers.get("If-None-Match") == tag:
                    self.send_response(304); self.send_header("ETag", tag); self.end_headers(); return
                self.send_response(200); self.send_header("ETag", tag)
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body); return
            return super().do_GET()
        def setup(self):
            # The handshake in the request's thread, as a real server does it: a
            # refused client gets the TLS alert and a moment to read it.
            if tls:
                try:
                    self.request.do_handshake()
                except (ssl.SSLError, OSError):
                    time.sleep(0.3)
                    raise
            super().setup()
    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, *a): pass
    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(server_pem, server_key)
        ctx.load_verify_locations(ca_pem)
        # mTLS: no client certificate, no connection
        ctx.verify_mode = ssl.CERT_REQUIRED if client_cert else ssl.CERT_NONE
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]

proxied = []  # what the proxy was asked: ("CONNECT", "host:port") or ("GET", absolute URL)
class Proxy(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def target(self, host, port):
        return ("127.0.0.1", int(port)) if host in (HOSTNAME, "127.0.0.1") else None
    def do_CONNECT(self):
        proxied.append(("CONNECT", self.path))
        host, port = self.path.rsplit(":", 1)
        t = self.target(host, port)
        if not t:
            self.send_error(403); return
        up = socket.create_connection(t)
        self.send_response(200, "Connection established"); self.end_headers()
        conns = [self.connection, up]
        while True:
            r, _, _ = select.select(conns, [], [], 30)
            if not r: break
            done = False
            for s in r:
                data = s.recv(65536)
                if not data: done = True; break
                (up if s is self.connection else self.connection).sendall(data)
            if done: break
        up.close()
        self.close_connection = True
    def do_GET(self):
        proxied.append(("GET", self.path))
        u = urllib.parse.urlsplit(self.path)
        t = self.target(u.hostname, u.port or 80)
        if not t or u.scheme != "http":
            self.send_error(403); return
        c = http.client.HTTPConnection(*t, timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection", "proxy-authorization")}
        c.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
        r = c.getresponse(); body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection"): self.send_header(k, v)
        self.end_headers(); self.wfile.write(body)
proxy_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
threading.Thread(target=proxy_srv.serve_forever, daemon=True).start()
PROXY = "http://127.0.0.1:%d" % proxy_srv.server_address[1]

# The same proxy, requiring basic credentials (407 without them).
PROXY_PASSWORD = "ppw-" + os.urandom(12).hex()
class AuthProxy(Proxy):
    def authorized(self):
        want = "Basic " + base64.b64encode(("fleet-proxy:" + PROXY_PASSWORD).encode()).decode()
        if self.headers.get("Proxy-Authorization") == want: return True
        self.send_response(407); self.send_header("Proxy-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0"); self.end_headers(); return False
    def do_CONNECT(self):
        if self.authorized(): super().do_CONNECT()
    def do_GET(self):
        if self.authorized(): super().do_GET()
auth_proxy_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AuthProxy)
threading.Thread(target=auth_proxy_srv.serve_forever, daemon=True).start()
AUTH_PROXY = "http://127.0.0.1:%d" % auth_proxy_srv.server_address[1]

mtls_port = mirror_server("mtls", tls=True)
plain_port = mirror_server("plain")
# An HTTPS mirror (no client certificate) whose /down/ redirects to the plain
# mirror over http, and /up/ to itself over https.
redir_port = None
redir_port = mirror_server("redirecting", tls=True, client_cert=False, redirects={
    "/down": lambda rest: "http://127.0.0.1:%d%s" % (plain_port, rest),
    "/up": lambda rest: "https://127.0.0.1:%d%s" % (redir_port, rest)})
bearer_port = mirror_server("bearer", auth=("bearer", TOKEN), etag=True)
basic_port = mirror_server("basic", auth=("basic", USER + ":" + PASSWORD))

token_file = os.path.join(tmp, "hub-token"); open(token_file, "w").write(TOKEN + "\n")
basic_file = os.path.join(tmp, "hub-basic"); open(basic_file, "w").write(USER + ":" + PASSWORD + "\n")
wrong_token = os.path.join(tmp, "wrong-token"); open(wrong_token, "w").write("not-the-token\n")
proxy_auth = os.path.join(tmp, "proxy-auth"); open(proxy_auth, "w").write("fleet-proxy:" + PROXY_PASSWORD + "\n")
wrong_proxy_auth = os.path.join(tmp, "wrong-proxy-auth"); open(wrong_proxy_auth, "w").write("fleet-proxy:nope\n")
creds = os.path.join(tmp, "credentials"); os.makedirs(creds)
shutil.copy(basic_file, os.path.join(creds, "hub-auth"))

# --- btfd ---
hostroot = os.path.join(tmp, "hostroot")
os.makedirs(os.path.join(hostroot, "etc"))
shutil.copy(os.path.join(source_root(), "tests", "data", "os-release", "ubuntu-20.04"), os.path.join(hostroot, "etc", "os-release"))
# The daemon runs without a login environment: none of the proxy variables leak in.
base_env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
log = os.path.join(tmp, "btfd.log")
runs = 0

def start(conf, env=None):
    global runs
    runs += 1
    path = os.path.join(tmp, "btfd-%d.conf" % runs)
    open(path, "w").write(conf)
    cache = os.path.join(tmp, "cache-%d" % runs)
    p = subprocess.Popen([btfd, "--config", path, "--socket", sock, "--cache-dir", cache, "--idle-exit", "0",
                          "--host-root", hostroot, "--connect-timeout", "2000", "--timeout", "20000", "--log-level", "debug"],
                         stderr=open(log, "a"), env=dict(base_env, **(env or {})))
    varlink.wait_for_socket(sock, p)
    return p

def stop(p):
    p.send_signal(signal.SIGTERM); p.wait(timeout=20)

def call(method, params=None):
    c = varlink.Conn(sock); r, fds = c.call(method, params or {}); c.close()
    for f in fds: os.close(f)
    return r

KERNELS = {"5.4": ("ubuntu", "20.04", "x86_64", "5.4.0-26-generic"), "5.11": ("ubuntu", "20.04", "x86_64", "5.11.0-1028-gcp"),
           "4.19": ("debian", "10", "x86_64", "4.19.0-17-amd64")}
def get(which="5.4"):
    d, v, a, r = KERNELS[which]
    return call("io.btfd.GetBtf", {"kernel": {"distro": d, "version": v, "arch": a, "release": r}})

def fetched(r):
    return "error" not in r and r["parameters"].get("source") == "hub"

def failed(r, name, *says):
    msg = r.get("parameters", {}).get("message", "")
    return r.get("error") == "io.btfd." + name and all(s in msg for s in says)

def run(conf, which="5.4", env=None):
    """Starts btfd with conf, asks for one kernel, stops; returns the reply."""
    p = start(conf, env)
    try:
        return get(which)
    finally:
        stop(p)

mtls = "https://127.0.0.1:%d" % mtls_port
mtls_section = '[Mirror "%s"]\nCAFile=%s\nClientCertificate=%s\nClientKey=%s\n' % (mtls, ca_pem, client_pem, client_key)

# 1. The HTTPS mirror: the site CA is needed, then the client certificate; both together suffice.
r = run("[Hub]\nMirrors=%s\n" % mtls)
check(failed(r, "HubUnreachable", "TLS verification failed", "CAFile="), "without CAFile= the test CA's mirror is refused: %s" % r)
r = run("[Hub]\nMirrors=%s\nCAFile=%s\n" % (mtls, os.path.join(tmp, "other.pem")))
check(failed(r, "HubUnreachable", "TLS verification failed"), "another CA is not enough: %s" % r)
r = run("[Hub]\nMirrors=%s\nCAFile=%s\n" % (mtls, ca_pem))
check(failed(r, "HubUnreachable", "client certificate", "ClientCertificate="), "without a client certificate the mirror refuses: %s" % r)
r = run("[Hub]\nMirrors=%s\n%s" % (mtls, mtls_section))
check(fetched(r), "CA + client certificate ([Mirror] section) fetch from the mTLS mirror: %s" % r)
# The section applies to its mirror only: a plain mirror listed first still works, the mTLS one still gets its certificate.
plain = "http://127.0.0.1:%d" % plain_port
p = start("[Hub]\nMirrors=%s %s\n%s" % (plain, mtls, mtls_section))
try:
    check(fetched(get("5.4")), "plain mirror beside an mTLS section")
finally:
    stop(p)

# An https mirror's redirects stay on https: followed there, refused (named) to plain http.
r = run("[Hub]\nMirrors=https://127.0.0.1:%d/up\nCAFile=%s\n" % (redir_port, ca_pem))
check(fetched(r), "an https mirror redirecting to https is followed: %s" % r)
r = run("[Hub]\nMirrors=https://127.0.0.1:%d/down\nCAFile=%s\n" % (redir_port, ca_pem))
check(r.get("error", "").startswith("io.btfd.Hub") and "refused" in r.get("parameters", {}).get("message", ""),
      "an https mirror redirecting to plain http is refused, by name: %s" % r)

# 2. The proxy: the mirror's name resolves only through it (plain HTTP proxying and CONNECT).
named_plain = "http://%s:%d" % (HOSTNAME, plain_port)
r = run("[Hub]\nMirrors=%s\n" % named_plain)
check(failed(r, "HubUnreachable", HOSTNAME), "without Proxy= the mirror's name does not resolve: %s" % r)
before = len(proxied)
r = run("[Hub]\nMirrors=%s\nProxy=%s\n" % (named_plain, PROXY))
check(fetched(r), "through the proxy (plain HTTP): %s" % r)
check(("GET", named_plain + "/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz") in proxied[before:],
      "the proxy was asked for the archive by absolute URL: %s" % proxied[before:])
named_tls = "https://%s:%d" % (HOSTNAME, mtls_port)
before = len(proxied)
r = run('[Hub]\nMirrors=%s\nProxy=%s\n[Mirror "%s"]\nCAFile=%s\nClientCertificate=%s\nClientKey=%s\n'
        % (named_tls, PROXY, named_tls, ca_pem, client_pem, client_key))
check(fetched(r), "through the proxy (CONNECT) to the mTLS mirror: %s" % r)
check(("CONNECT", "%s:%d" % (HOSTNAME, mtls_port)) in proxied[before:], "CONNECT to the mirror: %s" % proxied[before:])
# NoProxy=: the listed host goes direct (the proxy sees nothing).
before = len(proxied)
r = run("[Hub]\nMirrors=%s\nProxy=%s\nNoProxy=127.0.0.1\n" % (plain, PROXY))
check(fetched(r) and len(proxied) == before, "NoProxy= host fetched directly: %s %s" % (r, proxied[before:]))
# NoProxy= needed: the proxy refuses "localhost"; listed, the mirror is reached directly.
local = "http://localhost:%d" % plain_port
r = run("[Hub]\nMirrors=%s\nProxy=%s\n" % (local, PROXY))
check(failed(r, "HubUnreachable", "HTTP 403", "NoProxy="), "the proxy refuses localhost: %s" % r)
r = run("[Hub]\nMirrors=%s\nProxy=%s\nNoProxy=localhost\n" % (local, PROXY))
check(fetched(r), "NoProxy=localhost reaches it directly: %s" % r)
# A proxy that requires credentials: 407 names ProxyAuthFile=; the file's are sent; wrong ones are named.
r = run("[Hub]\nMirrors=%s\nProxy=%s\n" % (named_plain, AUTH_PROXY))
check(failed(r, "HubUnreachable", "HTTP 407", "ProxyAuthFile="), "the proxy wants credentials: %s" % r)
r = run("[Hub]\nMirrors=%s\nProxy=%s\nProxyAuthFile=%s\n" % (named_plain, AUTH_PROXY, wrong_proxy_auth))
check(failed(r, "HubUnreachable", "HTTP 407", "refused the credentials in ProxyAuthFile="), "wrong proxy credentials: %s" % r)
r = run("[Hub]\nMirrors=%s\nProxy=%s\nProxyAuthFile=%s\n" % (named_plain, AUTH_PROXY, proxy_auth))
check(fetched(r), "through the proxy with ProxyAuthFile=: %s" % r)
# A per-mirror NoProxy=* for one mirror leaves the others proxied.
before = len(proxied)
p = start('[Hub]\nMirrors=%s %s\nProxy=%s\n[Mirror "%s"]\nNoProxy=*\n' % (plain, named_plain, PROXY, plain))
try:
    check(fetched(get("5.4")), "first mirror direct")
    # (the second mirror, proxied, may be asked for the host's own kernel at start-up)
    check(not [x for x in proxied[before:] if "127.0.0.1:%d" % plain_port in x[1]],
          "the direct mirror did not use the proxy: %s" % proxied[before:])
finally:
    stop(p)

# 3. Credentials: needed, refused when wrong, sufficient; as a file or a credential name.
bearer = "http://127.0.0.1:%d" % bearer_port
r = run("[Hub]\nMirrors=%s\n" % bearer)
check(failed(r, "HubUnreachable", "HTTP 401", "BearerTokenFile="), "without a token: 401 named: %s" % r)
r = run("[Hub]\nMirrors=%s\nBearerTokenFile=%s\n" % (bearer, wrong_token))
check(failed(r, "HubUnreachable", "HTTP 401", "refused the credentials"), "a wrong token is refused: %s" % r)
basic = "http://127.0.0.1:%d" % basic_port
r = run("[Hub]\nMirrors=%s\n" % basic)
check(failed(r, "HubUnreachable", "HTTP 401", "BasicAuthFile="), "without basic credentials: 401: %s" % r)
r = run("[Hub]\nMirrors=%s\nBasicAuthFile=%s\n" % (basic, basic_file))
check(fetched(r), "basic auth from a file: %s" % r)
r = run("[Hub]\nMirrors=%s\nBasicAuthFile=hub-auth\n" % basic, env={"CREDENTIALS_DIRECTORY": creds})
check(fetched(r), "basic auth as a systemd credential (LoadCredential=): %s" % r)
# A credential name without the unit's credentials directory is a start-up error naming LoadCredential=.
conf = os.path.join(tmp, "cred.conf"); open(conf, "w").write("[Hub]\nMirrors=%s\nBasicAuthFile=hub-auth\n" % basic)
out = subprocess.run([btfd, "--config", conf, "--socket", sock, "--cache-dir", os.path.join(tmp, "c0")],
                     capture_output=True, text=True, timeout=20, env=base_env)
check(out.returncode != 0 and "LoadCredential=" in out.stderr, "credential name without CREDENTIALS_DIRECTORY: %s" % out.stderr)
# Credentials inside a URL would reach argv, logs, errors and Stats: btfd refuses to start, without repeating them.
for conf_text, says in (("[Hub]\nMirrors=http://%s:%s@127.0.0.1:%d\n" % (USER, PASSWORD, basic_port), "BasicAuthFile="),
                        ("[Hub]\nMirrors=%s\nProxy=http://%s:%s@127.0.0.1:3128\n" % (basic, USER, PASSWORD),
                         "ProxyAuthFile=")):
    open(conf, "w").write(conf_text)
    out = subprocess.run([btfd, "--config", conf, "--socket", sock, "--cache-dir", os.path.join(tmp, "c0")],
                         capture_output=True, text=True, timeout=20, env=base_env)
    check(out.returncode != 0 and says in out.stderr and "***@" in out.stderr and PASSWORD not in out.stderr,
          "credentials in a URL are refused at start-up: %s" % out.stderr)

# 4. Conditional SHA256SUMS (bearer mirror: ETag; basic mirror: Last-Modified), and secrets kept out of logs and stats.
def sums_statuses(name):
    return [s[3] for s in seen if s[0] == name and s[2] == "/SHA256SUMS" and s[3] != 401]
p = start("[Hub]\nMirrors=%s %s\n[Mirror \"%s\"]\nBearerTokenFile=%s\n[Mirror \"%s\"]\nBasicAuthFile=%s\n"
          % (bearer, basic, bearer, token_file, basic, basic_file))
try:
    n0 = len(sums_statuses("bearer"))
    r1, r2 = get("5.4"), get("5.11")
    check(fetched(r1) and fetched(r2), "two kernels with a token: %s %s" % (r1, r2))
    got = sums_statuses("bearer")[n0:]
    check(got == [200, 304], "SHA256SUMS by ETag: 200, then 304: %s" % got)
    inm = [s[4].get("If-None-Match") for s in seen if s[0] == "bearer" and s[2] == "/SHA256SUMS"][-1]
    check(inm and inm.startswith('"'), "the second request sent If-None-Match: %s" % inm)
    # The mirror's list changes: the next fetch gets it whole again.
    sums = os.path.join(mirror_dir, "SHA256SUMS")
    text = open(sums).read()
    open(sums + ".new", "w").write(text + "# changed\n"); os.rename(sums + ".new", sums)
    r3 = get("4.19")
    check(fetched(r3), "third kernel: %s" % r3)
    check(sums_statuses("bearer")[n0:] == [200, 304, 200], "a changed list is downloaded again: %s" % sums_statuses("bearer")[n0:])
    # Last-Modified: the basic mirror is asked (the bearer one answers first, so stop it from knowing the kernel).
    status = call("io.btfd.Status")["parameters"]
    stats = call("io.btfd.Stats", {"prometheus": True})["parameters"]
finally:
    stop(p)
p = start("[Hub]\nMirrors=%s\nBasicAuthFile=%s\n" % (basic, basic_file))
try:
    n0 = len(sums_statuses("basic"))
    r1, r2 = get("5.4"), get("5.11")
    check(fetched(r1) and fetched(r2), "two kernels with basic auth: %s %s" % (r1, r2))
    got = sums_statuses("basic")[n0:]
    check(got == [200, 304], "SHA256SUMS by Last-Modified: 200, then 304: %s" % got)
finally:
    stop(p)

text = stats.get("text", "")
check('btfd_mirror_requests_total{mirror="%s"} ' % bearer in text and
      "# TYPE btfd_mirror_requests_total counter" in text and "# HELP btfd_mirror_requests_total " in text and 'btfd_mirror_healthy{mirror="%s"} 1' % bearer in text,
      "per-mirror counters in the Prometheus text: %s" % [l for l in text.splitlines() if "btfd_mirror" in l])
logged = open(log).read()
for secret in (TOKEN, PASSWORD, base64.b64encode((USER + ":" + PASSWORD).encode()).decode(), PROXY_PASSWORD):
    check(secret not in logged, "a secret appears in btfd's log")
    check(secret not in json.dumps(status) and secret not in json.dumps(stats), "a secret appears in Status/Stats")
check("fetched ubuntu/20.04/x86_64/5.4.0-26-generic" in logged or "5.4.0-26-generic" in logged, "btfd logged its fetches")

shutil.rmtree(tmp, ignore_errors=True)
finish()
