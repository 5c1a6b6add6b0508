"""`gkrun features` tells the truth, compared field by field with
`runc features` (runc 1.1.5 here) and `crun features` where crun has the
command.  Every difference is listed in DIFFERENCES with its reason; a
field that differs without a row, or a row whose difference is gone,
fails the test."""
import json
import os
import subprocess

import pytest

from conftest import GKRUN

RUNTIMES = {"runc": "/usr/sbin/runc", "crun": "/usr/bin/crun"}

# field -> (what gkrun says differently, why)
DIFFERENCES = {
    "ociVersionMax": ("1.3.0", "gkrun implements runtime-spec 1.3.0 (runc 1.1.5: 1.0.2-dev)"),
    "mountOptions": ("tmpcopyup, idmap, ridmap",
                     "tmpcopyup copies up; idmap/ridmap where the kernel has idmapped mounts "
                     "(runc 1.1.5 lists neither)"),
    "linux.namespaces": ("time", "runc 1.1 has no time namespace"),
    "linux.seccomp.archs": ("more", "every architecture this libseccomp resolves; runc "
                                    "1.1.5 has a fixed list without parisc and riscv64"),
    "linux.seccomp.knownFlags": ("new", "runtime-spec 1.1 field, after runc 1.1.5"),
    "linux.seccomp.supportedFlags": ("new", "runtime-spec 1.1 field, after runc 1.1.5"),
    "linux.cgroup.systemdUser": (False, "no systemd --user (rootless) driver in gkrun yet"),
    "linux.cgroup.rdma": (True, "runtime-spec 1.1 field, after runc 1.1.5"),
    "linux.intelRdt.enabled": (False, "true only where resctrl is mounted (not here)"),
    "linux.intelRdt.schemata": (False, "runtime-spec 1.3 field, after runc 1.1.5"),
    "linux.intelRdt.monitoring": (False, "runtime-spec 1.3 field, after runc 1.1.5"),
    "linux.mountExtensions.idmap.enabled": (True, "runtime-spec 1.1 field, after runc 1.1.5"),
    "linux.netDevices.enabled": (True, "runtime-spec 1.2 field, after runc 1.1.5"),
    "linux.memoryPolicy.modes": ("new", "runtime-spec 1.3 field, after runc 1.1.5"),
    "linux.memoryPolicy.flags": ("new", "runtime-spec 1.3 field, after runc 1.1.5"),
    "annotations.io.github.gk.memoryPolicy.hostModes": ("new", "what this host's kernel takes"),
    "annotations.io.github.gk.memoryPolicy.hostFlags": ("new", "what this host's kernel takes"),
    "annotations.io.github.gk.memoryPolicy.hostNodes": ("new", "this host's nodes with memory"),
    "annotations.org.opencontainers.runc.commit": (None, "runc's own"),
    "annotations.org.opencontainers.runc.version": (None, "runc's own"),
}


def flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = sorted(v) if isinstance(v, list) else v
    return out


def features(prog):
    p = subprocess.run([prog, "features"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip("%s has no features command: %s" % (prog, p.stderr.strip()))
    return flat(json.loads(p.stdout))


def test_gkrun_features_are_this_build_and_host():
    f = features(GKRUN)
    assert f["ociVersionMax"] == "1.3.0"
    assert "tmpcopyup" in f["mountOptions"]
    assert ("idmap" in f["mountOptions"]) == f["linux.mountExtensions.idmap.enabled"]
    assert "rro" in f["mountOptions"]  # mount_setattr: every supported kernel has it
    assert f["linux.seccomp.archs"] and "SCMP_ARCH_X86_64" in f["linux.seccomp.archs"]
    assert set(f["linux.seccomp.supportedFlags"]) <= set(f["linux.seccomp.knownFlags"])
    assert "CAP_SYS_ADMIN" in f["linux.capabilities"]
    assert f["linux.cgroup.systemd"] is True


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_features_match_other_runtimes_but_for_listed_reasons(runtime):
    if not os.access(RUNTIMES[runtime], os.X_OK):
        pytest.skip("%s is not installed" % runtime)
    other, ours = features(RUNTIMES[runtime]), features(GKRUN)
    differ = {k for k in set(ours) | set(other) if ours.get(k) != other.get(k)}
    # a different libseccomp or libcap build answers differently: only runc
    # here is this host's Debian build, linked with the same libraries
    unexplained = sorted(differ - set(DIFFERENCES))
    assert unexplained == [], {k: (ours.get(k), other.get(k)) for k in unexplained}
    if runtime == "runc":
        stale = sorted(set(DIFFERENCES) - differ)
        assert stale == [], "listed differences that are gone: %s" % stale
