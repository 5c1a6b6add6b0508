"""Image signatures (bundle-spec/signatures.md): containers-policy.json(5)
checked by `gkimg pull`, signatures made by `gkimg push --sign-by*`.
Against Debian's docker-registry on loopback, with throw-away GPG and
ECDSA keys; skopeo 1.9.3 is the reference for simple signing (it signs,
gkimg verifies, and the reverse; the same policy gives both the same
verdict).  Debian's skopeo has sigstore disabled, so sigstore signatures
are checked with openssl instead: gkimg's are verified by `openssl dgst`,
and gkimg verifies one the test makes with openssl."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import pytest

import gkregistry as gr
from gkcli import gkimg
from test_pull import registry, small_image, unique  # noqa: F401 (a fixture)

SKOPEO = "/usr/bin/skopeo"


class Keys:
    """A GNUPGHOME with two keys (the trusted one, another), two ECDSA
    P-256 pairs, a lookaside directory and a registries.d pointing at it
    (with sigstore attachments on)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gk-sig-")
        self.gnupg = os.path.join(self.dir, "gnupg")
        os.mkdir(self.gnupg, 0o700)
        self.fpr = {}
        for name in ("trusted", "other"):
            self.gpg("--quick-gen-key", "gk %s <%s@gk.test>" % (name, name), "ed25519", "sign",
                     "never")
            out = self.gpg("--with-colons", "--list-keys", "%s@gk.test" % name).stdout
            self.fpr[name] = [ln.split(":")[9] for ln in out.splitlines()
                              if ln.startswith("fpr:")][0]
            with open(self.path(name + ".gpg"), "wb") as f:
                f.write(self.gpg("--export", self.fpr[name], text=False).stdout)
        for name in ("ec1", "ec2"):
            key, pub = self.path(name + ".pem"), self.path(name + ".pub")
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-out", key], check=True,
                           capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                           capture_output=True)
        self.lookaside = self.path("lookaside")
        self.regsd = self.path("registries.d")
        os.mkdir(self.regsd)
        with open(os.path.join(self.regsd, "gk.yaml"), "w") as f:
            f.write("# written by test_signatures.py\ndefault-docker:\n"
                    "  lookaside: file://%s\n  lookaside-staging: 'file://%s'\n"
                    "  use-sigstore-attachments: true\n" % (self.lookaside, self.lookaside))

    def path(self, name):
        return os.path.join(self.dir, name)

    def env(self):
        return dict(os.environ, GNUPGHOME=self.gnupg)

    def gpg(self, *args, text=True):
        return subprocess.run(["gpg", "--batch", "--passphrase", "", *args], check=True,
                              capture_output=True, text=text, env=self.env())

    def stop(self):
        subprocess.run(["gpgconf", "--kill", "all"], env=self.env(), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def keys():
    k = Keys()
    yield k
    k.stop()


def write_policy(tmp, default=None, docker=None):
    doc = {"default": default or [{"type": "insecureAcceptAnything"}]}
    if docker is not None:
        doc["transports"] = {"docker": docker}
    path = os.path.join(str(tmp), "policy-%d.json" % len(os.listdir(str(tmp))))
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def signed_by(keys, name="trusted", **extra):
    return dict({"type": "signedBy", "keyType": "GPGKeys",
                 "keyPath": keys.path(name + ".gpg")}, **extra)


def sigstore_signed(keys, name="ec1", **extra):
    return dict({"type": "sigstoreSigned", "keyPath": keys.path(name + ".pub")}, **extra)


def skopeo(keys, *args, check=True):
    p = subprocess.run([SKOPEO, "--registries.d", keys.regsd, *args], capture_output=True,
                       timeout=120, env=keys.env(), text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def skopeo_sign(keys, src, dest, fpr=None, identity=None):
    extra = ["--sign-identity", identity] if identity else []
    skopeo(keys, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--sign-by",
           fpr or keys.fpr["trusted"], *extra, "docker://" + src, "docker://" + dest)


def skopeo_accepts(keys, policy, ref, tmp):
    """skopeo's verdict: a copy out of the registry under POLICY."""
    out = os.path.join(str(tmp), "skopeo-out-%d" % len(os.listdir(str(tmp))))
    p = skopeo(keys, "--policy", policy, "copy", "--remove-signatures", "--src-tls-verify=false",
               "docker://" + ref,
               "oci:" + out, check=False)
    shutil.rmtree(out, ignore_errors=True)
    if os.environ.get("GK_SIG_DEBUG"):
        print("skopeo", ref, p.returncode, p.stderr)
    return p.returncode == 0


def gk_pull(keys, root, policy, ref):
    return gkimg(root, "--policy", policy, "--registries.d", keys.regsd, "pull", ref,
                 env={"GNUPGHOME": keys.gnupg})


def store_empty(root):
    """Nothing of a refused image in the store: no name, no blob."""
    names = gkimg(root, "images", "-q").stdout.split()
    blobs = []
    for d, _, files in os.walk(root):
        blobs += [f for f in files if len(f) == 64 and "blobs" in d]
    return names == [] and blobs == []


def seed(registry, keys, name, signed=True):
    """An image pushed to the registry (REPO:v1), and when SIGNED copied by
    skopeo to REPO:signed with the trusted key.  Returns (repo ref base,
    digest)."""
    repo = unique(name)
    digest = registry.push_image(repo, "v1", small_image(name.encode()))
    base = "%s/%s" % (registry.host, repo)
    if signed:
        skopeo_sign(keys, base + ":v1", base + ":signed")
    return base, digest


def accepted(r):
    return r.returncode == 0


def refused(r, *words):
    assert r.returncode != 0, r.stdout
    assert "signature verification failed" in r.stderr, r.stderr
    for w in words:
        assert w in r.stderr, r.stderr
    return True


# ---- simple signing: skopeo signs, gkimg verifies ----

@pytest.mark.parametrize("how", ["keyPath", "keyPaths", "keyData"])
def test_skopeo_signature_accepted(registry, keys, root, tmp_path, how):
    base, _ = seed(registry, keys, "sgn")
    req = signed_by(keys)
    if how == "keyPaths":
        req["keyPaths"] = [keys.path("other.gpg"), req.pop("keyPath")]
    elif how == "keyData":
        with open(req.pop("keyPath"), "rb") as f:
            req["keyData"] = base64.b64encode(f.read()).decode()
    policy = write_policy(tmp_path, default=[{"type": "reject"}],
                          docker={registry.host: [req]})
    assert skopeo_accepts(keys, policy, base + ":signed", tmp_path)
    r = gk_pull(keys, root, policy, base + ":signed")
    assert accepted(r), r.stderr
    assert gkimg(root, "images", "-q").stdout.split() != []


def test_wrong_key_refused(registry, keys, root, tmp_path):
    base, _ = seed(registry, keys, "wkey")
    policy = write_policy(tmp_path, docker={registry.host: [signed_by(keys, "other")]})
    assert not skopeo_accepts(keys, policy, base + ":signed", tmp_path)
    r = gk_pull(keys, root, policy, base + ":signed")
    assert refused(r, base + ":signed", "not one the policy trusts")
    assert store_empty(root)


def test_unsigned_refused(registry, keys, root, tmp_path):
    base, _ = seed(registry, keys, "unsg", signed=False)
    policy = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    assert not skopeo_accepts(keys, policy, base + ":v1", tmp_path)
    r = gk_pull(keys, root, policy, base + ":v1")
    assert refused(r, base + ":v1", "no simple-signing signature")
    assert store_empty(root)
    # insecureAcceptAnything (the Debian default) takes it
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    assert not store_empty(root)  # (store_empty sees what a pull stores)


def test_signature_of_another_digest_refused(registry, keys, root, tmp_path):
    """A good signature, by the trusted key, moved to another image's place
    in the lookaside: it names the other manifest's digest."""
    base, _ = seed(registry, keys, "dga")
    other, odigest = seed(registry, keys, "dgb", signed=False)
    repo = other.split("/", 1)[1]
    src = os.path.join(keys.lookaside, base.split("/", 1)[1])
    src = [os.path.join(keys.lookaside, os.path.dirname(base.split("/", 1)[1]), d)
           for d in os.listdir(os.path.dirname(src)) if d.startswith(os.path.basename(src) + "@")]
    dst = os.path.join(keys.lookaside, "%s@sha256=%s" % (repo, odigest[7:]))
    os.makedirs(dst)
    shutil.copy(os.path.join(src[0], "signature-1"), os.path.join(dst, "signature-1"))
    policy = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    assert not skopeo_accepts(keys, policy, other + ":v1", tmp_path)
    r = gk_pull(keys, root, policy, other + ":v1")
    assert refused(r, "is for manifest", odigest)
    assert store_empty(root)


def test_identity(registry, keys, root, tmp_path):
    """Signed as another repository's reference: refused by the default
    matchRepoDigestOrExact, taken by an exactReference naming it."""
    base, _ = seed(registry, keys, "idn", signed=False)
    claimed = "%s/%s:v9" % (registry.host, unique("elsewhere"))
    skopeo_sign(keys, base + ":v1", base + ":signed", identity=claimed)
    strict = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    assert not skopeo_accepts(keys, strict, base + ":signed", tmp_path)
    assert refused(gk_pull(keys, root, strict, base + ":signed"), "identity", claimed)
    assert store_empty(root)
    exact = write_policy(tmp_path, docker={registry.host: [signed_by(
        keys, signedIdentity={"type": "exactReference", "dockerReference": claimed})]})
    assert skopeo_accepts(keys, exact, base + ":signed", tmp_path)
    assert accepted(gk_pull(keys, root, exact, base + ":signed"))


def test_match_repository_takes_another_tag(registry, keys, root, tmp_path):
    """Signed as REPO:signed, pulled as REPO:again (the same manifest):
    matchExact refuses, matchRepository takes it."""
    base, _ = seed(registry, keys, "mrp")
    skopeo(keys, "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
           "docker://%s:signed" % base, "docker://%s:again" % base)
    for ident, ok in (("matchExact", False), ("matchRepository", True)):
        policy = write_policy(tmp_path, docker={registry.host: [signed_by(
            keys, signedIdentity={"type": ident})]})
        assert skopeo_accepts(keys, policy, base + ":again", tmp_path) == ok
        r = gk_pull(keys, root, policy, base + ":again")
        assert accepted(r) == ok, r.stderr


def test_lookaside_over_http(registry, keys, root, tmp_path):
    """The lookaside served over http (python's http.server on loopback):
    signature-1 found, the 404 of signature-2 ends the list; a 404 for an
    unsigned image is no signature, not an error of its own."""
    base, _ = seed(registry, keys, "htp")
    unsigned, _ = seed(registry, keys, "htq", signed=False)
    port = gr.free_port()
    srv = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                            str(port), "--directory", keys.lookaside],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        gr.wait_port(port, srv)
        d = os.path.join(str(tmp_path), "regsd-http")
        os.mkdir(d)
        with open(os.path.join(d, "http.yaml"), "w") as f:
            f.write("docker:\n  %s:\n    lookaside: http://127.0.0.1:%d\n" % (registry.host, port))
        policy = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
        r = gkimg(root, "--policy", policy, "--registries.d", d, "pull", base + ":signed")
        assert accepted(r), r.stderr
        r = gkimg(root, "--policy", policy, "--registries.d", d, "pull", unsigned + ":v1")
        assert refused(r, "no simple-signing signature")
    finally:
        srv.kill()
        srv.wait()


# ---- scopes and reject ----

def test_reject_and_scopes(registry, keys, root, tmp_path):
    """The most specific scope wins: the repository over the host over the
    transport default over the default."""
    base, _ = seed(registry, keys, "scp", signed=False)
    repo = base.split("/", 1)[1]
    cases = [
        ({"": [{"type": "reject"}]}, False),
        ({registry.host: [{"type": "reject"}]}, False),
        ({registry.host: [{"type": "reject"}], base: [{"type": "insecureAcceptAnything"}]}, True),
        ({registry.host: [{"type": "insecureAcceptAnything"}], base: [{"type": "reject"}]}, False),
        ({base + ":v1": [{"type": "reject"}], base: [{"type": "insecureAcceptAnything"}]}, False),
        ({"%s/%s" % (registry.host, repo.split("/")[0]): [{"type": "reject"}]}, False),
        ({"%s/nothere" % registry.host: [{"type": "reject"}]}, True),
    ]
    for docker, ok in cases:
        policy = write_policy(tmp_path, docker=docker)
        assert skopeo_accepts(keys, policy, base + ":v1", tmp_path) == ok, docker
        r = gk_pull(keys, root, policy, base + ":v1")
        if ok:
            assert accepted(r), (docker, r.stderr)
            gkimg(root, "rmi", base + ":v1", check=True)
            gkimg(root, "gc", check=True)
        else:
            assert refused(r, "reject"), docker
            assert store_empty(root)
    r = gk_pull(keys, root, write_policy(tmp_path, default=[{"type": "reject"}]), base + ":v1")
    assert refused(r, "default: reject")


# ---- gkimg signs, skopeo verifies ----

def test_gkimg_signature_accepted_by_skopeo(registry, keys, root, tmp_path):
    base, _ = seed(registry, keys, "gks", signed=False)
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    dest = base + ":gksigned"
    r = gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by", keys.fpr["trusted"],
              base + ":v1", dest, env={"GNUPGHOME": keys.gnupg})
    assert r.returncode == 0, r.stderr
    good = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    bad = write_policy(tmp_path, docker={registry.host: [signed_by(keys, "other")]})
    assert skopeo_accepts(keys, good, dest, tmp_path)
    assert not skopeo_accepts(keys, bad, dest, tmp_path)
    root2 = tempfile.mkdtemp(prefix="gk-store-")
    try:
        assert accepted(gk_pull(keys, root2, good, dest))
        assert refused(gk_pull(keys, root2, bad, base + ":v1"))
    finally:
        shutil.rmtree(root2, ignore_errors=True)


def test_sign_with_gpg_passphrase(registry, keys, root, tmp_path):
    """A passphrase-protected GPG key (the agent caches nothing): signing
    needs --sign-passphrase-file, and the right one."""
    home = tempfile.mkdtemp(prefix="gk-gpw-")
    env = dict(os.environ, GNUPGHOME=home)
    try:
        with open(os.path.join(home, "gpg-agent.conf"), "w") as f:
            f.write("default-cache-ttl 0\nmax-cache-ttl 0\n")
        subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "pw",
                        "--quick-gen-key", "gk pw <pw@gk.test>", "ed25519", "sign", "never"],
                       check=True, capture_output=True, env=env)
        out = subprocess.run(["gpg", "--with-colons", "--list-keys"], check=True, text=True,
                             capture_output=True, env=env).stdout
        fpr = [ln.split(":")[9] for ln in out.splitlines() if ln.startswith("fpr:")][0]
        pub = os.path.join(home, "pub.gpg")
        with open(pub, "wb") as f:
            f.write(subprocess.run(["gpg", "--export", fpr], check=True, capture_output=True,
                                   env=env).stdout)
        base, _ = seed(registry, keys, "gpw", signed=False)
        assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
        for pw, ok in ((None, False), ("bad", False), ("pw\n", True)):
            extra = []
            if pw is not None:
                extra = ["--sign-passphrase-file", os.path.join(home, "pass")]
                with open(extra[1], "w") as f:
                    f.write(pw)
            r = gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by", fpr, *extra,
                      base + ":v1", base + ":gpw", env={"GNUPGHOME": home}, timeout=60)
            assert (r.returncode == 0) == ok, r.stderr
        policy = write_policy(tmp_path, docker={registry.host: [
            {"type": "signedBy", "keyType": "GPGKeys", "keyPath": pub}]})
        assert skopeo_accepts(keys, policy, base + ":gpw", tmp_path)
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_sign_with_unknown_key_fails(registry, keys, root, tmp_path):
    base, _ = seed(registry, keys, "gku", signed=False)
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    r = gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by", "0" * 40, base + ":v1",
              base + ":x", env={"GNUPGHOME": keys.gnupg})
    assert r.returncode != 0
    assert "--sign-by" in r.stderr and "0" * 40 in r.stderr, r.stderr



# ---- a key that cannot sign fails before anything is sent ----

@pytest.fixture(scope="module")
def registry2():
    reg = gr.Registry()
    yield reg
    reg.stop()


def dest_holds(reg, repo, tag, img):
    """What REPO:TAG at REG holds of IMG: the tag (asked with both manifest
    types: docker-registry hides an OCI manifest from a request without an
    Accept for it) and each of its blobs (HEAD 200)."""
    held = []
    for mt in (gr.MT_OCI_MANIFEST, gr.MT_DOCKER_MANIFEST):
        st, _, _ = reg._req("HEAD", "/v2/%s/manifests/%s" % (repo, tag), headers={"Accept": mt})
        if st == 200:
            held.append("manifest")
    for d in image_blobs(img):
        if reg._req("HEAD", "/v2/%s/blobs/%s" % (repo, d))[0] == 200:
            held.append(d)
    return held


def image_blobs(img):
    return [d for d in img.blobs if d != gr.sha(img.manifest)]


def sign_failure(keys, kind, tmp_path):
    """--sign* arguments that cannot sign: an unknown GPG fingerprint, or
    an encrypted sigstore key with the wrong passphrase."""
    if kind == "gpg":
        return ["--sign-by", "0" * 40], "0" * 40
    enc, pw = os.path.join(str(tmp_path), "enc.pem"), os.path.join(str(tmp_path), "pass")
    subprocess.run(["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in",
                    keys.path("ec1.pem"), "-out", enc, "-passout", "pass:s3cret"], check=True)
    with open(pw, "w") as f:
        f.write("wrong\n")
    return ["--sign-by-sigstore-private-key", enc, "--sign-passphrase-file", pw], \
        "--sign-passphrase-file"


@pytest.mark.parametrize("kind", ["gpg", "sigstore"])
@pytest.mark.parametrize("how", ["push", "copy"])
def test_sign_failure_leaves_destination_untouched(registry, registry2, keys, root, tmp_path,
                                                   how, kind):
    """The signature is made before the first blob goes up (push from the
    store, and a registry -> registry copy, whose blobs go up while they
    come down): a key that cannot sign leaves the destination without the
    manifest and without any of the image's blobs."""
    repo = unique("sgf")
    img = small_image(("sgf" + how + kind).encode())
    registry.push_image(repo, "v1", img)
    src = "%s/%s:v1" % (registry.host, repo)
    dest_repo = unique("sgfdst")
    dest = "%s/%s:v1" % (registry2.host, dest_repo)
    args, word = sign_failure(keys, kind, tmp_path)
    if how == "push":
        assert accepted(gk_pull(keys, root, write_policy(tmp_path), src))
        r = gkimg(root, "--registries.d", keys.regsd, "push", *args,
                  src, dest, env={"GNUPGHOME": keys.gnupg})
    else:
        r = gk_copy(keys, root, write_policy(tmp_path), *args, "docker://" + src,
                    "docker://" + dest)
    assert r.returncode != 0, r.stdout
    assert word in r.stderr, r.stderr
    assert dest_holds(registry2, dest_repo, "v1", img) == []
    # the check sees a complete image: without --sign* the same push goes through
    r = (gkimg(root, "push", src, dest) if how == "push" else
         gk_copy(keys, root, write_policy(tmp_path), "docker://" + src, "docker://" + dest))
    assert r.returncode == 0, r.stderr
    assert dest_holds(registry2, dest_repo, "v1", img) == ["manifest"] + image_blobs(img)


def test_skopeo_sign_failure_writes_destination(registry, registry2, keys, tmp_path):
    """skopeo 1.9.3 (containers/image of its time) signs after it has
    written the destination: with an unknown fingerprint it fails as
    gkimg does, but leaves the blobs and the tagged manifest behind.
    gkimg differs on purpose (see the test above): an unsigned image at
    the tag a signed one was meant for is what signing is there to avoid."""
    repo = unique("sgk")
    img = small_image(b"sgk")
    registry.push_image(repo, "v1", img)
    dest_repo = unique("sgkdst")
    p = skopeo(keys, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--sign-by",
               "0" * 40, "docker://%s/%s:v1" % (registry.host, repo),
               "docker://%s/%s:v1" % (registry2.host, dest_repo), check=False)
    assert p.returncode != 0 and "0" * 40 in p.stderr, p.stderr
    assert dest_holds(registry2, dest_repo, "v1", img) == ["manifest"] + image_blobs(img)


# ---- sigstore ----

def attachment(registry, base, digest):
    tag = "sha256-%s.sig" % digest[7:]
    _, _, body = registry._req("GET", "/v2/%s/manifests/%s" % (base.split("/", 1)[1], tag),
                               headers={"Accept": gr.MT_OCI_MANIFEST})
    return json.loads(body)


def blob(registry, base, digest):
    st, _, body = registry._req("GET", "/v2/%s/blobs/%s" % (base.split("/", 1)[1], digest))
    assert st == 200
    return body


def openssl_verifies(pub, payload, sig, tmp):
    p, s = os.path.join(str(tmp), "payload"), os.path.join(str(tmp), "sig")
    with open(p, "wb") as f:
        f.write(payload)
    with open(s, "wb") as f:
        f.write(sig)
    return subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", s, p],
                          capture_output=True).returncode == 0


def test_sigstore_sign_and_verify(registry, keys, root, tmp_path):
    base, digest = seed(registry, keys, "sst", signed=False)
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    r = gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by-sigstore-private-key",
              keys.path("ec1.pem"), base + ":v1", base + ":sst")
    assert r.returncode == 0, r.stderr
    # the attachment, as cosign lays it out, checked by openssl
    att = attachment(registry, base, digest)
    assert att["mediaType"] == gr.MT_OCI_MANIFEST
    [layer] = att["layers"]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    payload = blob(registry, base, layer["digest"])
    claims = json.loads(payload)["critical"]
    assert claims["type"] == "cosign container image signature"
    assert claims["image"]["docker-manifest-digest"] == digest
    assert claims["identity"]["docker-reference"] == base + ":sst"
    sig = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    assert openssl_verifies(keys.path("ec1.pub"), payload, sig, tmp_path)
    assert not openssl_verifies(keys.path("ec2.pub"), payload, sig, tmp_path)
    # gkimg verifies it: the right key, the wrong key
    good = write_policy(tmp_path, docker={registry.host: [sigstore_signed(keys)]})
    bad = write_policy(tmp_path, docker={registry.host: [sigstore_signed(keys, "ec2")]})
    root2 = tempfile.mkdtemp(prefix="gk-store-")
    try:
        assert refused(gk_pull(keys, root2, bad, base + ":sst"), "not made by the policy's key")
        assert store_empty(root2)
        assert accepted(gk_pull(keys, root2, good, base + ":sst"))
    finally:
        shutil.rmtree(root2, ignore_errors=True)
    # a second signature is added to the attachment, the first one kept
    r = gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by-sigstore-private-key",
              keys.path("ec2.pem"), base + ":v1", base + ":sst")
    assert r.returncode == 0, r.stderr
    assert len(attachment(registry, base, digest)["layers"]) == 2
    assert accepted(gk_pull(keys, root, bad, base + ":sst"))


def test_sigstore_signature_made_by_openssl(registry, keys, root, tmp_path):
    """An attachment the test builds itself (payload signed by openssl):
    gkimg takes it for the image it names, not for another digest."""
    base, digest = seed(registry, keys, "sso", signed=False)
    repo = base.split("/", 1)[1]
    payload = json.dumps({"critical": {"identity": {"docker-reference": base + ":v1"},
                                       "image": {"docker-manifest-digest": digest},
                                       "type": "cosign container image signature"},
                          "optional": None}).encode()
    p = os.path.join(str(tmp_path), "payload")
    with open(p, "wb") as f:
        f.write(payload)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", keys.path("ec1.pem"), p],
                         check=True, capture_output=True).stdout
    pd = registry.push_blob(repo, payload)
    cfg = b'{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":["%s"]}}' % \
        pd.encode()
    cd = registry.push_blob(repo, cfg)
    man = json.dumps({"schemaVersion": 2, "mediaType": gr.MT_OCI_MANIFEST,
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": cd, "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                                  "digest": pd, "size": len(payload),
                                  "annotations": {"dev.cosignproject.cosign/signature":
                                                  base64.b64encode(sig).decode()}}]}).encode()
    registry.push_manifest(repo, "sha256-%s.sig" % digest[7:], man, gr.MT_OCI_MANIFEST)
    good = write_policy(tmp_path, docker={registry.host: [sigstore_signed(keys)]})
    assert accepted(gk_pull(keys, root, good, base + ":v1"))
    # the same attachment under another image's digest: refused
    other, odigest = seed(registry, keys, "ssp", signed=False)
    registry.push_blob(other.split("/", 1)[1], payload)
    registry.push_blob(other.split("/", 1)[1], cfg)
    registry.push_manifest(other.split("/", 1)[1], "sha256-%s.sig" % odigest[7:], man,
                           gr.MT_OCI_MANIFEST)
    assert refused(gk_pull(keys, root, good, other + ":v1"), "is for manifest")
    # and without use-sigstore-attachments nothing is looked for
    plain = os.path.join(str(tmp_path), "regsd-plain")
    os.mkdir(plain)
    r = gkimg(root, "--policy", good, "--registries.d", plain, "pull", base + ":v1")
    assert refused(r, "no sigstore signature found")


def test_sigstore_key_with_passphrase(registry, keys, root, tmp_path):
    """An encrypted PKCS#8 key: taken with the right --sign-passphrase-file,
    refused without one or with a wrong one."""
    base, digest = seed(registry, keys, "ssk", signed=False)
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    enc = os.path.join(str(tmp_path), "enc.pem")
    subprocess.run(["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in",
                    keys.path("ec1.pem"), "-out", enc, "-passout", "pass:s3cret"], check=True)
    for pw, ok in ((None, False), ("wrong\n", False), ("s3cret\n", True)):
        extra = []
        if pw is not None:
            f = os.path.join(str(tmp_path), "pass")
            with open(f, "w") as fh:
                fh.write(pw)
            extra = ["--sign-passphrase-file", f]
        r = gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by-sigstore-private-key",
                  enc, *extra, base + ":v1", base + ":ssk")
        assert (r.returncode == 0) == ok, r.stderr
        if not ok:
            assert "--sign-passphrase-file" in r.stderr, r.stderr
    policy = write_policy(tmp_path, docker={registry.host: [sigstore_signed(keys)]})
    root2 = tempfile.mkdtemp(prefix="gk-store-")
    try:
        assert accepted(gk_pull(keys, root2, policy, base + ":ssk"))
    finally:
        shutil.rmtree(root2, ignore_errors=True)


# ---- cosign's encrypted private key (cosign generate-key-pair) ----

SIGSTORE_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
COSIGN_PEM = "ENCRYPTED COSIGN PRIVATE KEY"  # what cosign wrote before 2.0


def cosign_key(path, der, passphrase, kdf="scrypt", cipher="nacl/secretbox", n=32768,
               pem_type=SIGSTORE_PEM):
    """DER (a PKCS#8 private key) as cosign writes it: go-securesystemslib's
    envelope, the key scrypt(passphrase, salt, N, 8, 1) sealed in a NaCl
    secretbox, the JSON base64'd into a PEM block.  Made with PyNaCl and
    hashlib's scrypt, independently of gkimg's libsodium."""
    import nacl.secret
    salt, nonce = os.urandom(32), os.urandom(24)
    key = hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=8, p=1, maxmem=256 << 20,
                         dklen=32)
    box = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext  # MAC, then ciphertext
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    env = json.dumps({"kdf": {"name": kdf, "params": {"N": n, "r": 8, "p": 1},
                              "salt": b64(salt)},
                      "cipher": {"name": cipher, "nonce": b64(nonce)},
                      "ciphertext": b64(box)}).encode()
    body = b64(env)
    with open(path, "w") as f:
        f.write("-----BEGIN %s-----\n" % pem_type)
        f.write("".join(body[i:i + 64] + "\n" for i in range(0, len(body), 64)))
        f.write("-----END %s-----\n" % pem_type)
    return path


def pkcs8_der(keys, name="ec1"):
    return subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in",
                           keys.path(name + ".pem"), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def passfile(tmp, text):
    path = os.path.join(str(tmp), "pass-%d" % len(os.listdir(str(tmp))))
    with open(path, "w") as f:
        f.write(text)
    return path


def sign_push(keys, root, key, src, dest, pw=None):
    extra = ["--sign-passphrase-file", pw] if pw else []
    return gkimg(root, "--registries.d", keys.regsd, "push", "--sign-by-sigstore-private-key",
                 key, *extra, src, dest)


def attachment_status(registry, base, digest):
    tag = "sha256-%s.sig" % digest[7:]
    st, _, _ = registry._req("GET", "/v2/%s/manifests/%s" % (base.split("/", 1)[1], tag),
                             headers={"Accept": gr.MT_OCI_MANIFEST})
    return st


def verified_by_gkimg(registry, keys, tmp, ref, name):
    """gkimg pull of REF under a sigstoreSigned policy with key NAME, into
    a store of its own."""
    policy = write_policy(tmp, docker={registry.host: [sigstore_signed(keys, name)]})
    root2 = tempfile.mkdtemp(prefix="gk-store-")
    try:
        return accepted(gk_pull(keys, root2, policy, ref))
    finally:
        shutil.rmtree(root2, ignore_errors=True)


@pytest.mark.parametrize("pem_type,pw,n", [
    (SIGSTORE_PEM, "s3cret pass\n", 32768),
    (COSIGN_PEM, "s3cret pass\n", 65536),
    (SIGSTORE_PEM, None, 32768),  # COSIGN_PASSWORD="": no passphrase file needed
])
def test_cosign_key_signs(registry, keys, root, tmp_path, pem_type, pw, n):
    """The key cosign generate-key-pair writes signs a push; the signature
    is the key's (openssl verifies it with the public key) and gkimg pull
    accepts the image under a sigstoreSigned policy with that key only."""
    base, digest = seed(registry, keys, "csk", signed=False)
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    key = cosign_key(os.path.join(str(tmp_path), "cosign.key"), pkcs8_der(keys),
                     pw.strip() if pw else "", n=n, pem_type=pem_type)
    r = sign_push(keys, root, key, base + ":v1", base + ":csk",
                  passfile(tmp_path, pw) if pw else None)
    assert r.returncode == 0, r.stderr
    [layer] = attachment(registry, base, digest)["layers"]
    payload = blob(registry, base, layer["digest"])
    sig = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    assert openssl_verifies(keys.path("ec1.pub"), payload, sig, tmp_path)
    assert verified_by_gkimg(registry, keys, tmp_path, base + ":csk", "ec1")
    assert not verified_by_gkimg(registry, keys, tmp_path, base + ":csk", "ec2")


def test_cosign_key_refusals(registry, keys, root, tmp_path):
    """A wrong passphrase, none when one is needed, a kdf or cipher gkimg does
    not know: each refused naming the key file and the reason, and no
    signature is uploaded (the image itself is pushed before signing)."""
    base, digest = seed(registry, keys, "csr", signed=False)
    assert accepted(gk_pull(keys, root, write_policy(tmp_path), base + ":v1"))
    der = pkcs8_der(keys)
    good = cosign_key(os.path.join(str(tmp_path), "good.key"), der, "right")
    cases = [
        (good, passfile(tmp_path, "wrong\n"), ["passphrase", "is wrong"]),
        (good, None, ["encrypted key without the right --sign-passphrase-file"]),
        (cosign_key(os.path.join(str(tmp_path), "kdf.key"), der, "right", kdf="pbkdf2"),
         passfile(tmp_path, "right\n"), ["kdf `pbkdf2` is not supported"]),
        (cosign_key(os.path.join(str(tmp_path), "cipher.key"), der, "right",
                    cipher="aes-256-gcm"),
         passfile(tmp_path, "right\n"), ["cipher `aes-256-gcm` is not supported"]),
    ]
    for key, pw, words in cases:
        r = sign_push(keys, root, key, base + ":v1", base + ":csr", pw)
        assert r.returncode != 0, (key, r.stdout)
        assert "`%s`" % key in r.stderr, r.stderr
        for w in words:
            assert w in r.stderr, r.stderr
        assert attachment_status(registry, base, digest) == 404
    assert not verified_by_gkimg(registry, keys, tmp_path, base + ":csr", "ec1")
    # the same key with its passphrase: signed (the refusals were the key's, not the setup's)
    r = sign_push(keys, root, good, base + ":v1", base + ":csr", passfile(tmp_path, "right"))
    assert r.returncode == 0, r.stderr
    assert verified_by_gkimg(registry, keys, tmp_path, base + ":csr", "ec1")


def test_copy_signs_with_cosign_key(registry, keys, root, tmp_path):
    base, _ = seed(registry, keys, "csc", signed=False)
    key = cosign_key(os.path.join(str(tmp_path), "cosign.key"), pkcs8_der(keys, "ec2"), "pw")
    r = gk_copy(keys, root, write_policy(tmp_path), "--sign-by-sigstore-private-key", key,
                "--sign-passphrase-file", passfile(tmp_path, "pw\n"),
                "docker://" + base + ":v1", "docker://" + base + ":copied")
    assert r.returncode == 0, r.stderr
    assert verified_by_gkimg(registry, keys, tmp_path, base + ":copied", "ec2")
    assert not verified_by_gkimg(registry, keys, tmp_path, base + ":copied", "ec1")


# ---- what gkimg cannot check is refused, never ignored ----

@pytest.mark.parametrize("req,field", [
    ({"type": "signedBaseLayer", "baseLayerIdentity": {"type": "matchExact"}}, "signedBaseLayer"),
    ({"type": "signedBy", "keyType": "X509Certificates", "keyPath": "/x"}, "keyType"),
    ({"type": "sigstoreSigned", "fulcio": {"caPath": "/x"}}, "fulcio"),
    ({"type": "sigstoreSigned", "keyPath": "/x", "rekorPublicKeyPath": "/y"},
     "rekorPublicKeyPath"),
    ({"type": "signedBy", "keyType": "GPGKeys", "keyPth": "/x"}, "keyPth"),
    ({"type": "signedBy", "keyType": "GPGKeys"}, "keyPath"),
])
def test_unsupported_policy_refused(registry, keys, root, tmp_path, req, field):
    base, _ = seed(registry, keys, "uns", signed=False)
    policy = write_policy(tmp_path, docker={registry.host: [req]})
    r = gk_pull(keys, root, policy, base + ":v1")
    assert r.returncode != 0
    assert policy in r.stderr and field in r.stderr, r.stderr
    assert store_empty(root)


def test_bad_registries_d_refused(registry, keys, root, tmp_path):
    base, _ = seed(registry, keys, "brd", signed=False)
    d = os.path.join(str(tmp_path), "regsd")
    os.mkdir(d)
    with open(os.path.join(d, "x.yaml"), "w") as f:
        f.write("docker:\n  %s:\n    lookaside: [1, 2\n" % registry.host)
    policy = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    r = gkimg(root, "--policy", policy, "--registries.d", d, "pull", base + ":v1")
    assert r.returncode != 0
    assert "x.yaml" in r.stderr, r.stderr


# ---- gkimg copy: the policy on a registry source, signing a registry destination ----

def gk_copy(keys, root, policy, *args):
    return gkimg(root, "--policy", policy, "--registries.d", keys.regsd, "copy",
                 "--src-tls-verify=false", "--dest-tls-verify=false", *args,
                 env={"GNUPGHOME": keys.gnupg})


def test_copy_checks_the_policy(registry, keys, root, tmp_path):
    """As skopeo copy: a signed source copies, an unsigned one is refused
    and nothing reaches the destination."""
    base, _ = seed(registry, keys, "cpol")
    other, _ = seed(registry, keys, "cpun", signed=False)
    policy = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    out = tmp_path / "layout"
    r = gk_copy(keys, root, policy, "docker://" + base + ":signed", "oci:%s:ok" % out)
    assert r.returncode == 0, r.stderr
    r = gk_copy(keys, root, policy, "docker://" + other + ":v1", "oci:%s:bad" % out)
    assert refused(r, other + ":v1", "no simple-signing signature")
    assert "Permission denied" not in r.stderr
    with open(out / "index.json") as f:
        names = [m["annotations"]["org.opencontainers.image.ref.name"]
                 for m in json.load(f)["manifests"]]
    assert names == ["ok"]


def test_copy_sign_by_accepted_by_skopeo(registry, keys, root, tmp_path):
    base, digest = seed(registry, keys, "csig", signed=False)
    anything = write_policy(tmp_path)
    dest = base + ":copysigned"
    r = gk_copy(keys, root, anything, "--sign-by", keys.fpr["trusted"], "docker://" + base + ":v1",
                "docker://" + dest)
    assert r.returncode == 0, r.stderr
    good = write_policy(tmp_path, docker={registry.host: [signed_by(keys)]})
    bad = write_policy(tmp_path, docker={registry.host: [signed_by(keys, "other")]})
    assert skopeo_accepts(keys, good, dest, tmp_path)
    assert not skopeo_accepts(keys, bad, dest, tmp_path)
    # a destination that cannot keep a signature is refused before anything is copied
    r = gk_copy(keys, root, anything, "--sign-by", keys.fpr["trusted"], "docker://" + dest,
                "oci:%s" % (tmp_path / "nosig"))
    assert r.returncode != 0 and "only a docker:// destination keeps signatures" in r.stderr, \
        r.stderr
    assert not (tmp_path / "nosig").exists()
