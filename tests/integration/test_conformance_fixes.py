"""Behaviour the OCI runtime validation suite checks (tests/conformance),
kept here as fast regression tests: rootfsPropagation "shared", and
poststart/poststop hooks whose failure is only a warning."""


def hooks_with_failing_first(log, kind):
    """A failing hook, then one that records that it ran."""
    return {kind: [{"path": "/bin/false", "args": ["false"]},
                   {"path": "/bin/sh", "args": ["sh", "-c", "echo ran >> %s" % log]}]}


def test_rootfs_propagation_shared(gk):
    b = gk.bundle(["/bin/sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo"])
    b.linux["rootfsPropagation"] = "shared"
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert "shared:" in p.stdout


def test_failing_poststart_hook_warns_and_later_hooks_run(gk, tmp_path):
    log = tmp_path / "poststart.log"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststart")
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert "warning: poststart hook #0 `/bin/false`: exit status 1" in p.stderr
    assert log.read_text() == "ran\n"


def test_failing_poststart_hook_does_not_fail_start(gk, tmp_path):
    log = tmp_path / "poststart.log"
    b = gk.bundle(["/bin/sleep", "100"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststart")
    cid = gk.create(b)
    p = gk.gkrun("start", cid)
    assert p.returncode == 0, p.stderr
    assert "warning: poststart hook #0" in p.stderr
    assert gk.state(cid)["status"] == "running"
    assert log.read_text() == "ran\n"


def test_failing_poststop_hook_warns_and_later_hooks_run(gk, tmp_path):
    log = tmp_path / "poststop.log"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststop")
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    gk.gkrun("kill", cid, "KILL")
    p = gk.gkrun("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert "warning: poststop hook #0" in p.stderr
    assert log.read_text() == "ran\n"
