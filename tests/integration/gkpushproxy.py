"""A recording proxy in front of a docker-registry for the push, inspect
and tags tests (gkregistry.Proxy forwards only GET and HEAD).  Every
method is forwarded; on top, what real registries do that Debian's
docker-registry 2.8 does not, or faults:

  answer_once=(METHOD, PATH_PART, STATUS, HEADERS)
                    the next matching request is answered so instead of
                    forwarded (a 401 of an expired token, a 500)
  tag_page=N        tag lists paginated as distribution 3 and Docker Hub
                    do: ?n= (default N) and ?last=, a Link rel="next"
  refuse_mounts     POST ?mount=&from= forwarded without them: the registry
                    opens a plain upload session (202), as one that does
                    not mount does
  drop_after=N      the next upload request with a longer body (PATCH, PUT)
                    has its first N bytes stored in the session (forwarded
                    as a PATCH of N bytes) and then its connection cut
                    without an answer, as a registry that keeps what it
                    received (zot, quay) is seen by a client whose network
                    drops.  docker-registry 2.8 itself cannot: its session
                    URLs carry the offset in a signed _state, and a status
                    request with a stale one fails (BLOB_UPLOAD_INVALID);
                    so with drop_after the proxy gives the client stable
                    session URLs (/v2/NAME/blobs/uploads/UUID, as the OCI
                    spec's registries do) and keeps the latest _state.
"""
import http.client
import json
import socket
import threading
import urllib.parse

from gkregistry import ThreadServer

import http.server


class PushProxyHandler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def handle_any(self):
        srv = self.server_obj
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        srv.record(self)
        with srv.lock:
            srv.requests[-1]["body_len"] = len(body)
            srv.requests[-1]["content_range"] = self.headers.get("Content-Range")
        path = self.path
        with srv.lock:
            once = srv.answer_once
            if once and once[0] == self.command and once[1] in path:
                srv.answer_once = None
            else:
                once = None
        if once:
            return self.reply(once[2], once[3], b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if srv.refuse_mounts and self.command == "POST" and "mount=" in path:
            path = path.split("?", 1)[0]
        if srv.tag_page and self.command == "GET" and path.split("?")[0].endswith("/tags/list"):
            return self.paginate(path)
        path = self.session_path(path)
        drop = None
        with srv.lock:
            if srv.drop_after is not None and len(body) > srv.drop_after \
                    and self.command in ("PATCH", "PUT") and "/blobs/uploads/" in path:
                drop, srv.drop_after = srv.drop_after, None
                srv.dropped += 1
        if drop is not None:
            return self.forward_cut(path, body, drop)
        status, headers, data = self.forward(self.command, path, body)
        self.reply(status, headers, data)

    def forward(self, method, path, body):
        srv = self.server_obj
        conn = http.client.HTTPConnection("127.0.0.1", srv.upstream_port, timeout=60)
        # every header line as sent: skopeo sends one Accept per media type
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("content-length", "expect", "connection"):
                conn.putheader(k, v)
        if method not in ("GET", "HEAD"):
            conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body if method not in ("GET", "HEAD") else None)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        headers = dict(resp.getheaders())
        loc = headers.get("Location")
        up = "http://127.0.0.1:%d" % srv.upstream_port
        if loc and loc.startswith(up):
            headers["Location"] = "http://127.0.0.1:%d" % srv.port + loc[len(up):]
        self.stable_location(headers)
        return resp.status, headers, data

    def session_path(self, path):
        """A stable session URL the client holds -> the registry's latest
        one for it (with its _state), query parameters kept."""
        srv = self.server_obj
        u = urllib.parse.urlparse(path)
        uuid = u.path.rsplit("/", 1)[1] if "/blobs/uploads/" in u.path else ""
        with srv.lock:
            latest = srv.sessions.get(uuid)
        if not latest or "_state=" in u.query:
            return path
        return latest + ("&" + u.query if u.query else "")

    def stable_location(self, headers):
        """Records the registry's session Location and hands the client a
        stable one instead (only once a drop is armed or has happened)."""
        srv = self.server_obj
        loc = headers.get("Location")
        if not loc or "/blobs/uploads/" not in loc or "_state=" not in loc:
            return
        if srv.drop_after is None and not srv.dropped:
            return
        u = urllib.parse.urlparse(loc)
        uuid = u.path.rsplit("/", 1)[1]
        with srv.lock:
            srv.sessions[uuid] = u.path + "?" + u.query
        headers["Location"] = "http://127.0.0.1:%d%s" % (srv.port, u.path)

    def forward_cut(self, path, body, n):
        """Stores the first N bytes of BODY in the session (a PATCH of its
        own), then cuts the client's connection without an answer."""
        srv = self.server_obj
        start = int((self.headers.get("Content-Range") or "0-").split("-")[0])
        up = path.split("?", 1)[0] + "?" + "&".join(
            p for p in path.split("?", 1)[1].split("&") if not p.startswith("digest="))
        conn = http.client.HTTPConnection("127.0.0.1", srv.upstream_port, timeout=60)
        conn.request("PATCH", up, body=body[:n],
                     headers={"Content-Type": "application/octet-stream",
                              "Content-Range": "%d-%d" % (start, start + n - 1),
                              "Authorization": self.headers.get("Authorization", "")})
        resp = conn.getresponse()
        resp.read()
        headers = dict(resp.getheaders())
        conn.close()
        assert resp.status == 202, resp.status
        self.stable_location(headers)
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def paginate(self, path):
        u = urllib.parse.urlparse(path)
        q = urllib.parse.parse_qs(u.query)
        status, headers, data = self.forward("GET", u.path, None)
        if status != 200:
            return self.reply(status, headers, data)
        doc = json.loads(data)
        tags = sorted(doc.get("tags") or [])
        n = int(q.get("n", [self.server_obj.tag_page])[0])
        last = q.get("last", [None])[0]
        if last is not None:
            tags = [t for t in tags if t > last]
        page, more = tags[:n], len(tags) > n
        headers = {"Content-Type": "application/json"}
        if more:
            headers["Link"] = '<%s?last=%s&n=%d>; rel="next"' % (u.path, page[-1], n)
        self.reply(200, headers, json.dumps({"name": doc["name"], "tags": page}).encode())

    def reply(self, status, headers, data):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, *a):
        pass


class PushProxy(ThreadServer):
    def __init__(self, upstream_port, tag_page=0, refuse_mounts=False):
        self.upstream_port = upstream_port
        self.tag_page = tag_page
        self.refuse_mounts = refuse_mounts
        self.drop_after = None
        self.dropped = 0
        self.answer_once = None
        self.sessions = {}  # upload UUID -> the registry's latest session path
        super().__init__(PushProxyHandler)
        self.lock = threading.Lock()

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def seen(self, method=None, path=""):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and path in r["path"]]

    def clear(self):
        with self.lock:
            self.requests = []
