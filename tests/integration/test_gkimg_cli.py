"""gkimg's command line as a user sees it, against a loopback registry:
rmi of an image with several names, images -q/--digests/--format, and
per-command --help.  Every assertion is on the exact lines printed."""
import json
import shutil
import tempfile

import pytest

import gkregistry as gr
from test_pull import gkimg, small_image, unique


@pytest.fixture(scope="module")
def registry():
    reg = gr.Registry()
    yield reg
    reg.stop()


@pytest.fixture
def root():
    d = tempfile.mkdtemp(prefix="gk-cli-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def names(root):
    r = gkimg(root, "images", "--format", "json", check=True)
    return sorted(i["name"] for i in json.loads(r.stdout))


def pulled(registry, root, seed, *tags, repo=None):
    """One image pushed under every TAG of REPO and pulled by each."""
    repo = repo or unique("cli")
    img = small_image(seed)
    refs = []
    for t in tags:
        digest = registry.push_image(repo, t, img)
        refs.append("%s/%s:%s" % (registry.host, repo, t))
        gkimg(root, "pull", "-q", refs[-1], check=True)
    return img, refs, digest


# ---- rmi ----

def conflict(img):
    return ("gkimg: conflict: unable to delete %s (must be forced) - image is referenced "
            "in multiple repositories\n" % img.id[7:19])


def test_rmi_by_id_of_an_image_with_two_tags_must_be_forced(registry, root):
    img, (ra, rb), _ = pulled(registry, root, b"two-tags", "a", "b")
    for ref in (img.id[7:19], img.id):
        r = gkimg(root, "rmi", ref)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", conflict(img))
    assert names(root) == [ra, rb]
    r = gkimg(root, "rmi", "--force", img.id[7:19], check=True)
    assert r.stdout == "Untagged: %s\nUntagged: %s\nDeleted: %s\n" % (ra, rb, img.id)
    assert names(root) == []


def test_rmi_across_repositories_must_be_forced(registry, root):
    img, [ra], _ = pulled(registry, root, b"two-repos", "v1")
    _, [rb], _ = pulled(registry, root, b"two-repos", "v1")
    r = gkimg(root, "rmi", img.id[7:])
    assert (r.returncode, r.stdout, r.stderr) == (1, "", conflict(img))
    r = gkimg(root, "rmi", "-f", img.id[7:], check=True)
    assert sorted(r.stdout.splitlines()) == sorted(["Untagged: " + ra, "Untagged: " + rb,
                                                    "Deleted: " + img.id])
    assert r.stdout.splitlines()[-1] == "Deleted: " + img.id


def test_rmi_name_untags_and_deletes_with_the_last_name(registry, root):
    img, (ra, rb), _ = pulled(registry, root, b"untag", "a", "b")
    r = gkimg(root, "rmi", ra, check=True)
    assert (r.stdout, r.stderr) == ("Untagged: %s\n" % ra, "")
    assert names(root) == [rb]
    r = gkimg(root, "rmi", rb, check=True)
    assert r.stdout == "Untagged: %s\nDeleted: %s\n" % (rb, img.id)
    assert names(root) == []
    # the blobs stay for gc
    assert gkimg(root, "gc", check=True).stdout.startswith("removed ")


def test_rmi_by_id_of_a_tag_and_its_digest_is_one_reference(registry, root):
    """docker's rule: a tag plus digest names of the same repository are one
    reference; an ID removes them all without --force."""
    img, [ref], digest = pulled(registry, root, b"tag-digest", "v1")
    by_digest = ref.rsplit(":", 1)[0] + "@" + digest
    gkimg(root, "pull", "-q", by_digest, check=True)
    assert names(root) == sorted([ref, by_digest])
    r = gkimg(root, "rmi", img.id[7:19], check=True)
    assert sorted(r.stdout.splitlines()[:2]) == sorted(["Untagged: " + ref,
                                                        "Untagged: " + by_digest])
    assert r.stdout.splitlines()[2:] == ["Deleted: " + img.id]
    assert names(root) == []


def test_rmi_goes_on_after_a_refusal(registry, root):
    img, (ra, rb), _ = pulled(registry, root, b"goes-on", "a", "b")
    other, [rc], _ = pulled(registry, root, b"goes-on-other", "c")
    r = gkimg(root, "rmi", img.id[7:19], rc)
    assert (r.returncode, r.stderr) == (1, conflict(img))
    assert r.stdout == "Untagged: %s\nDeleted: %s\n" % (rc, other.id)
    assert names(root) == [ra, rb]
