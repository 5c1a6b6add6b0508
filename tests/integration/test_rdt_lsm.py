"""linux.intelRdt and the LSM labels, where the host lacks them: each is
refused at once, naming the field or flag, and nothing is left behind
(bundle-spec/intelrdt.md; what is written where resctrl is mounted is
tests/unit/test_rdt.c's).  gkrun never accepts a field that would change
nothing."""
import json
import os

import pytest

RESCTRL = "/sys/fs/resctrl"


def resctrl_mounted():
    with open("/proc/self/mountinfo") as f:
        return any(line.split(" - ")[1].split()[0] == "resctrl" for line in f)


def refused(gk, b, msg):
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert msg in p.stderr, p.stderr
    assert gk.gkrun("state", cid).returncode != 0
    return cid


@pytest.mark.parametrize("rdt", [
    {"closID": "gk-test"},
    {"l3CacheSchema": "L3:0=f"},
    {"memBwSchema": "MB:0=50"},
    {"schemata": ["L3:0=f", "MB:0=50"]},
    {"enableMonitoring": True},
    {},
])
def test_intel_rdt_refused_without_resctrl(gk, rdt):
    if resctrl_mounted():
        pytest.skip("resctrl is mounted here")
    b = gk.bundle(["true"])
    b.linux["intelRdt"] = rdt
    refused(gk, b, "config.json: linux.intelRdt: resctrl is not mounted at `%s`" % RESCTRL)
    assert not os.path.exists(os.path.join(RESCTRL, "gk-test"))


@pytest.mark.parametrize("rdt,msg", [
    ({"memBwSchema": "L3:0=f"}, "linux.intelRdt.memBwSchema: must start with \"MB:\""),
    ({"l3CacheSchema": "L3:0=f\nMB:0=1"}, "linux.intelRdt.l3CacheSchema: must not contain a newline"),
    ({"schemata": ["L3:0=f", "MB:0=1\nL2:0=1"]}, "linux.intelRdt.schemata[1]: must not contain"),
    ({"closID": "a/b"}, "linux.intelRdt.closID: \"a/b\": must be \"/\" or a group name"),
    ({"closID": ".."}, "linux.intelRdt.closID: \"..\": names a file of resctrl"),
    ({"closID": "info"}, "linux.intelRdt.closID: \"info\": names a file of resctrl"),
    ({"enableMonitoring": "yes"}, "linux.intelRdt.enableMonitoring: must be a boolean"),
])
def test_intel_rdt_bad_values(gk, rdt, msg):
    b = gk.bundle(["true"])
    b.linux["intelRdt"] = rdt
    refused(gk, b, "config.json: " + msg)


def test_features_intel_rdt_and_net_devices(gk):
    feats = json.loads(gk.gkrun("features", check=True).stdout)["linux"]
    assert feats["intelRdt"]["enabled"] is resctrl_mounted()
    assert feats["netDevices"] == {"enabled": True}


def apparmor_enabled():
    try:
        return open("/sys/module/apparmor/parameters/enabled").read().startswith("Y")
    except OSError:
        return False


def selinux_enabled():
    return os.path.exists("/sys/fs/selinux/enforce")


def test_config_labels_name_the_field(gk):
    if apparmor_enabled() or selinux_enabled():
        pytest.skip("an LSM is enabled here")
    b = gk.bundle(["true"])
    b.process["apparmorProfile"] = "gk-test-profile"
    refused(gk, b, "config.json: process.apparmorProfile: apparmor profile")
    b = gk.bundle(["true"])
    b.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
    refused(gk, b, "config.json: process.selinuxLabel: selinux label")


@pytest.mark.parametrize("flag,value,lsm_on,msg", [
    ("--apparmor", "gk-test-profile", apparmor_enabled, "exec: --apparmor: apparmor profile"),
    ("--process-label", "system_u:system_r:container_t:s0", selinux_enabled,
     "exec: --process-label: selinux label"),
])
@pytest.mark.parametrize("with_process", [False, True], ids=["args", "process-file"])
def test_exec_label_flags_refused(gk, flag, value, lsm_on, msg, with_process):
    """Refused, not dropped, also over --process (which runc 1.1 takes
    alone, ignoring such flags)."""
    if lsm_on():
        pytest.skip("the LSM is enabled here")
    b = gk.bundle(["sleep", "100"])
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    if with_process:
        proc = os.path.join(b.path, "process.json")
        with open(proc, "w") as f:
            json.dump(dict(b.process, args=["true"]), f)
        p = gk.gkrun("exec", "--process", proc, flag, value, cid)
    else:
        p = gk.gkrun("exec", flag, value, cid, "true")
    assert p.returncode != 0
    assert msg in p.stderr, p.stderr
