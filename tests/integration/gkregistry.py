"""Registries for pull tests, all on 127.0.0.1 with free ports, all killed
by PID in teardown:

  Registry      Debian's docker-registry (the CNCF distribution server) with
                filesystem storage in a temp dir, optionally `auth: token`
                behind TokenServer; images are pushed with the v2 API
                (push_image, push_index) so every manifest type is exercised.
  TokenServer   a Docker-Hub-like token endpoint (python http.server in a
                thread) issuing JWTs signed with a key the registry trusts.
  Proxy         forwards to a registry and injects faults: blob GETs
                answered by a 307 to another port (a CDN), errors (401, 403,
                404, 429, 500), truncation, slowness, wrong bytes; records
                every request it saw (method, path, headers).
"""
import base64
import contextlib
import hashlib
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from gkimage import Image, compress, sha  # noqa: F401 (re-exported)

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


# ---- JWT for the registry's token auth (RS256 with an openssl key) ----

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(der_pub):
    """distribution's key id: base32 of the first 240 bits of the SHA-256
    of the DER public key, in 12 groups of 4."""
    h = base64.b32encode(hashlib.sha256(der_pub).digest()[:30]).decode().rstrip("=")
    return ":".join(h[i:i + 4] for i in range(0, 48, 4))


class TokenKey:
    def __init__(self, d):
        self.key = os.path.join(d, "token.key")
        self.crt = os.path.join(d, "token.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=gk-token", "-keyout", self.key, "-out", self.crt],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", self.crt, "-pubkey", "-noout"],
                             check=True, capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der,
                             check=True, capture_output=True).stdout
        self.kid = libtrust_kid(der)

    def sign(self, claims):
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing,
                             check=True, capture_output=True).stdout
        return signing.decode() + "." + b64url(sig)


# ---- a thread-run HTTP server ----

class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ThreadServer:
    """Runs handler_cls on a free port in a thread; .requests records what
    it saw."""

    def __init__(self, handler_cls):
        self.port = free_port()
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class H(handler_cls):
            server_obj = outer
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

        self.httpd = _Server(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def record(self, handler):
        with self.lock:
            self.requests.append({"method": handler.command, "path": handler.path,
                                  "headers": dict(handler.headers.items())})

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class TokenHandler(http.server.BaseHTTPRequestHandler):
    """GET /token?service=..&scope=..: a JWT for the scope, anonymous or for
    the user of a Basic header (which must match server_obj.users)."""

    def do_GET(self):
        srv = self.server_obj
        srv.record(self)
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        user = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if srv.users.get(u) != p:
                return self.reply(401, {"details": "bad credentials"})
            user = u
        elif srv.require_login:
            return self.reply(401, {"details": "login required"})
        access = []
        for scope in q.get("scope", []):
            typ, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if srv.private and not user and name in srv.private:
                continue
            access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": "gk-token-issuer", "sub": user, "aud": q.get("service", [""])[0],
                  "exp": now + srv.lifetime, "nbf": now - 10, "iat": now,
                  "jti": str(now) + str(len(srv.requests)), "access": access}
        srv.issued += 1
        self.reply(200, {"token": srv.key.sign(claims), "expires_in": srv.lifetime,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class TokenServer(ThreadServer):
    def __init__(self, key, users=None, private=(), require_login=False, lifetime=300):
        self.key = key
        self.users = users or {}
        self.private = set(private)
        self.require_login = require_login
        self.lifetime = lifetime
        self.issued = 0
        super().__init__(TokenHandler)

    @property
    def realm(self):
        return "http://127.0.0.1:%d/token" % self.port


def make_ca_and_cert(d, name="gk-test-ca"):
    """A CA (d/NAME.crt) and a server certificate for 127.0.0.1 it signed
    (d/server.crt, d/server.key)."""
    ca_key, ca = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    key, csr, crt = (os.path.join(d, "server." + e) for e in ("key", "csr", "crt"))
    ext = os.path.join(d, "ext.cnf")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=" + name, "-keyout", ca_key, "-out", ca)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-days", "2", "-extfile", ext, "-out", crt)
    return ca, crt, key


# ---- the registry ----

class Registry:
    """docker-registry on 127.0.0.1:PORT with storage in a temp dir."""

    def __init__(self, token=None, tls=None, users=None):
        """tls: (certificate file, key file) to serve HTTPS; users: {name:
        password} for Basic auth (htpasswd)."""
        self.dir = tempfile.mkdtemp(prefix="gk-reg-")
        self.tls = tls
        self.users = users
        self.port = free_port()
        self.token = token
        cfg = ["version: 0.1", "log:", "  level: error", "storage:", "  filesystem:",
               "    rootdirectory: %s/data" % self.dir, "  delete:", "    enabled: true",
               "http:", "  addr: 127.0.0.1:%d" % self.port, "  secret: gk-test-secret"]
        if tls:
            cfg += ["  tls:", "    certificate: %s" % tls[0], "    key: %s" % tls[1]]
        if users:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import crypt  # bcrypt through libxcrypt, as htpasswd -B would
            path = os.path.join(self.dir, "htpasswd")
            with open(path, "w") as f:
                for u, p in users.items():
                    f.write("%s:%s\n" % (u, crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                                                        rounds=16))))
            cfg += ["auth:", "  htpasswd:", "    realm: gk-basic", "    path: %s" % path]
        if token:
            cfg += ["auth:", "  token:", "    realm: %s" % token.realm,
                    "    service: gk-registry", "    issuer: gk-token-issuer",
                    "    rootcertbundle: %s" % token.key.crt]
        self.config = os.path.join(self.dir, "config.yml")
        with open(self.config, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(["/usr/bin/docker-registry", "serve", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- pushing with the v2 API --

    def _auth_header(self, repo):
        if self.users:
            u, p = next(iter(self.users.items()))
            return {"Authorization": "Basic " + base64.b64encode(
                ("%s:%s" % (u, p)).encode()).decode()}
        if not self.token:
            return {}
        tok = self.token.key.sign({
            "iss": "gk-token-issuer", "sub": "pusher", "aud": "gk-registry",
            "exp": int(time.time()) + 600, "nbf": int(time.time()) - 10,
            "iat": int(time.time()), "jti": "push-%f" % time.time(),
            "access": [{"type": "repository", "name": repo, "actions": ["pull", "push"]}]})
        return {"Authorization": "Bearer " + tok}

    def _req(self, method, path, body=None, headers=None, repo=None):
        if self.tls:
            import ssl
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        h.update(self._auth_header(repo) if repo else {})
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), data

    def push_blob(self, repo, blob):
        digest = sha(blob)
        st, _, _ = self._req("HEAD", "/v2/%s/blobs/%s" % (repo, digest), repo=repo)
        if st == 200:
            return digest
        st, h, data = self._req("POST", "/v2/%s/blobs/uploads/" % repo, repo=repo)
        assert st == 202, (st, data)
        loc = h["Location"]
        loc = loc if "://" not in loc else "/" + loc.split("/", 3)[3]
        sep = "&" if "?" in loc else "?"
        st, _, data = self._req("PUT", loc + sep + "digest=" + digest, body=blob,
                                headers={"Content-Type": "application/octet-stream",
                                         "Content-Length": str(len(blob))}, repo=repo)
        assert st == 201, (st, data)
        return digest

    def push_manifest(self, repo, ref, body, media_type):
        st, h, data = self._req("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                                headers={"Content-Type": media_type}, repo=repo)
        assert st == 201, (st, data)
        return sha(body)

    def push_image(self, repo, tag, img, docker=False):
        """Pushes an Image (gkimage.Image); docker=True rewrites its manifest
        as Docker schema2.  Returns the manifest digest."""
        for d, blob in img.blobs.items():
            if d != sha(img.manifest):
                self.push_blob(repo, blob)
        body, mt = image_manifest(img, docker)
        return self.push_manifest(repo, tag, body, mt)

    def push_index(self, repo, tag, entries, docker=False):
        """entries: [(Image, {"os":..,"architecture":..[,"variant":..]}, docker?)];
        an Image of None with platform unknown/unknown adds an attestation."""
        manifests = []
        for img, plat, kw in entries:
            body, mt = image_manifest(img, kw.get("docker", False))
            for d, blob in img.blobs.items():
                if d != sha(img.manifest):
                    self.push_blob(repo, blob)
            self.push_manifest(repo, sha(body), body, mt)
            m = {"mediaType": mt, "digest": sha(body), "size": len(body), "platform": plat}
            if kw.get("attestation"):
                m["annotations"] = {"vnd.docker.reference.type": "attestation-manifest",
                                    "vnd.docker.reference.digest": kw["attestation"]}
            manifests.append(m)
        mt = MT_DOCKER_LIST if docker else MT_OCI_INDEX
        body = json.dumps({"schemaVersion": 2, "mediaType": mt,
                           "manifests": manifests}).encode()
        return self.push_manifest(repo, tag, body, mt)


def image_manifest(img, docker):
    if not docker:
        return img.manifest, MT_OCI_MANIFEST
    m = json.loads(img.manifest)
    m["mediaType"] = MT_DOCKER_MANIFEST
    m["config"]["mediaType"] = MT_DOCKER_CONFIG
    for layer in m["layers"]:
        if layer["mediaType"].endswith("+gzip"):
            layer["mediaType"] = MT_DOCKER_LAYER
    return json.dumps(m, sort_keys=True).encode(), MT_DOCKER_MANIFEST


# ---- fault-injecting proxy and a CDN ----

class Fault:
    """What the proxy does to requests matching `method` and a `path`
    substring, `times` times (None: always):
        status=CODE, headers={}, body=b""      answer this instead
        truncate=N                             forward, but cut the body after N bytes
        slow=BYTES_PER_SEC                     forward, slowly
        stall=True                             send the headers, then nothing
        corrupt=True                           forward with the body's first byte changed
        body=b"..." with status=200            replace the answer: that body, and
                                               status 200 (a Range ignored)
        redirect=True                          307 to the CDN
    """

    def __init__(self, path="", method=None, times=None, **action):
        self.path, self.method, self.times, self.action = path, method, times, action

    def matches(self, method, path):
        if self.times is not None and self.times <= 0:
            return False
        if self.method and method != self.method:
            return False
        return self.path in path


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def handle_any(self):
        srv = self.server_obj
        srv.record(self)
        fault = None
        with srv.lock:
            for f in srv.faults:
                if f.matches(self.command, self.path):
                    fault = f
                    if f.times is not None:
                        f.times -= 1
                    break
        a = fault.action if fault else {}
        if "status" in a and "body" not in a or a.get("status", 200) != 200:
            return self.send_raw(a["status"], a.get("headers", {}), a.get("body", b""))
        if a.get("redirect") and "/blobs/" in self.path:
            digest = self.path.rsplit("/", 1)[1]
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:%d/cdn/%s?sig=x" % (srv.cdn.port,
                                                                              digest))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, headers, body = self.forward()
        if "body" in a:
            status, body = 200, a["body"]
            headers = {k: v for k, v in headers.items() if k.lower() != "content-range"}
            headers = {k: v for k, v in headers.items()
                       if k.lower() not in ("docker-content-digest",)}
            headers.update(a.get("headers", {}))
        if a.get("corrupt") and body:
            body = bytes([body[0] ^ 0xff]) + body[1:]
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        write_body(self, body, a)

    def forward(self):
        srv = self.server_obj
        conn = http.client.HTTPConnection("127.0.0.1", srv.upstream_port, timeout=30)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request(self.command, self.path, headers=hdrs)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        headers = dict(resp.getheaders())
        loc = headers.get("Location")
        if loc and loc.startswith("http://127.0.0.1:%d" % srv.upstream_port):
            headers["Location"] = loc.replace(":%d" % srv.upstream_port, ":%d" % srv.port)
        return resp.status, headers, body

    def send_raw(self, code, headers, body):
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *a):
        pass


def write_body(handler, body, a):
    """Writes BODY as fault action A says (truncate/slow/stall)."""
    try:
        if a.get("stall"):
            time.sleep(a.get("stall_seconds", 30))
            return
        if "truncate" in a:
            handler.wfile.write(body[:a["truncate"]])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if "slow" in a:
            step = max(1, a["slow"] // 20)
            for i in range(0, len(body), step):
                handler.wfile.write(body[i:i + step])
                handler.wfile.flush()
                time.sleep(0.05)
            return
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


class CDNHandler(http.server.BaseHTTPRequestHandler):
    """GET /cdn/DIGEST: the blob from server_obj.blobs, with Range."""

    def do_GET(self):
        srv = self.server_obj
        srv.record(self)
        digest = urllib.parse.urlparse(self.path).path.rsplit("/", 1)[1]
        blob = srv.blobs.get(digest)
        if blob is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        rng = self.headers.get("Range")
        start = 0
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(blob) - 1,
                                                                   len(blob)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(blob) - start))
        self.end_headers()
        self.wfile.write(blob[start:])

    def log_message(self, *a):
        pass


class Proxy(ThreadServer):
    def __init__(self, upstream_port, blobs=None):
        self.upstream_port = upstream_port
        self.faults = []
        self.cdn = ThreadServer(CDNHandler)
        self.cdn.blobs = blobs if blobs is not None else {}
        super().__init__(ProxyHandler)

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def fault(self, **kw):
        f = Fault(**kw)
        with self.lock:
            self.faults.append(f)
        return f

    def clear(self):
        with self.lock:
            self.faults = []
            self.requests = []
            self.cdn.requests = []

    def seen(self, method=None, path=""):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and path in r["path"]]

    def stop(self):
        self.cdn.stop()
        super().stop()
