"""A CRI client: runtime.v1's RuntimeService and ImageService over
containerd's socket, as the kubelet speaks them.

The Python code for api.proto is generated when a test starts, into a
directory of the test's (grpc_tools.protoc), and imported from there: no
generated file is kept in the tree.
"""
import importlib.util
import os
import subprocess
import sys
import time

API_PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api.proto")


def missing_modules():
    """The Debian packages this client needs and does not find, as a
    skip reason ("" when all are there)."""
    missing = []
    for mod, pkg in (("grpc", "python3-grpcio"), ("grpc_tools", "python3-grpc-tools")):
        if importlib.util.find_spec(mod) is None:
            missing.append(pkg)
    if not missing:
        return ""
    return "%s not installed (contrib/install-deps.sh --test)" % ", ".join(missing)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    # The _grpc module imports "api_pb2" by name.
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_generated = []


def generate(outdir):
    """api.proto compiled into OUTDIR; returns (messages, stubs) modules.
    Once per process: protobuf keeps one descriptor per file name."""
    if _generated:
        return _generated[0]
    # protoc runs in a child: grpc_tools' main() would otherwise share our
    # process's protobuf descriptor pool with the modules we load.
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I",
                    os.path.dirname(API_PROTO), "--python_out", outdir,
                    "--grpc_python_out", outdir, API_PROTO], check=True)
    pb = _load("api_pb2", os.path.join(outdir, "api_pb2.py"))
    rpc = _load("api_pb2_grpc", os.path.join(outdir, "api_pb2_grpc.py"))
    _generated.append((pb, rpc))
    return pb, rpc


class Client:
    """runtime.v1 over SOCK.  pb: the messages; runtime, images: the stubs.
    Every call has a deadline, so that a hung containerd fails the test."""

    def __init__(self, sock, gendir, timeout=60):
        import grpc

        self.grpc = grpc
        self.pb, rpc = generate(gendir)
        self.channel = grpc.insecure_channel("unix://" + sock)
        self.runtime = rpc.RuntimeServiceStub(self.channel)
        self.images = rpc.ImageServiceStub(self.channel)
        self.timeout = timeout

    def close(self):
        self.channel.close()

    def call(self, stub, method, deadline=None, **fields):
        """STUB.METHOD(METHODRequest(**FIELDS)) within DEADLINE seconds (by
        default our own).  FIELDS may have a "timeout" of the CRI's."""
        req = getattr(self.pb, method + "Request")(**fields)
        return getattr(stub, method)(req, timeout=deadline or self.timeout)

    def rt(self, method, deadline=None, **fields):
        return self.call(self.runtime, method, deadline, **fields)

    def img(self, method, deadline=None, **fields):
        return self.call(self.images, method, deadline, **fields)

    def wait_ready(self, timeout=30):
        """Waits until the CRI answers Version (the plugin loads after the
        socket appears)."""
        deadline = time.time() + timeout
        while True:
            try:
                return self.rt("Version", deadline=5, version="v1")
            except self.grpc.RpcError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
