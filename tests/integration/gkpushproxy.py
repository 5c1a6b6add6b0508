"""A recording proxy in front of a docker-registry for the push, inspect
and tags tests (gkregistry.Proxy forwards only GET and HEAD).  Every
method is forwarded; on top, what real registries do that Debian's
docker-registry 2.8 does not, or faults:

  tag_page=N        tag lists paginated as distribution 3 and Docker Hub
                    do: ?n= (default N) and ?last=, a Link rel="next"
  refuse_mounts     POST ?mount=&from= forwarded without them: the registry
                    opens a plain upload session (202), as one that does
                    not mount does
  drop_after=N      the next upload request with a body (PATCH or PUT)
                    forwards its first N bytes to the registry and then
                    cuts both connections without an answer: the registry
                    keeps what it got, the client sees a dropped connection
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
        if srv.refuse_mounts and self.command == "POST" and "mount=" in path:
            path = path.split("?", 1)[0]
        if srv.tag_page and self.command == "GET" and path.split("?")[0].endswith("/tags/list"):
            return self.paginate(path)
        drop = None
        with srv.lock:
            if srv.drop_after is not None and body and self.command in ("PATCH", "PUT") \
                    and "/blobs/uploads/" in path:
                drop, srv.drop_after = srv.drop_after, None
                srv.dropped += 1
        if drop is not None:
            return self.forward_cut(path, body, drop)
        status, headers, data = self.forward(self.command, path, body)
        self.reply(status, headers, data)

    def forward(self, method, path, body, headers=None):
        srv = self.server_obj
        conn = http.client.HTTPConnection("127.0.0.1", srv.upstream_port, timeout=60)
        hdrs = headers or {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "expect")}
        conn.request(method, path, body=body if method not in ("GET", "HEAD") else None,
                     headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        headers = dict(resp.getheaders())
        loc = headers.get("Location")
        up = "http://127.0.0.1:%d" % srv.upstream_port
        if loc and loc.startswith(up):
            headers["Location"] = "http://127.0.0.1:%d" % srv.port + loc[len(up):]
        return resp.status, headers, data

    def forward_cut(self, path, body, n):
        """Sends the request with its full Content-Length but only N bytes
        of the body, then closes: the registry keeps N bytes."""
        srv = self.server_obj
        s = socket.create_connection(("127.0.0.1", srv.upstream_port), timeout=30)
        lines = ["%s %s HTTP/1.1" % (self.command, path), "Host: 127.0.0.1:%d" % srv.upstream_port,
                 "Content-Length: %d" % len(body), "Connection: close"]
        lines += ["%s: %s" % (k, v) for k, v in self.headers.items()
                  if k.lower() not in ("host", "content-length", "expect", "connection")]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body[:n])
        s.shutdown(socket.SHUT_WR)
        try:
            s.recv(65536)  # the registry's answer (an error), dropped
        except OSError:
            pass
        s.close()
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
