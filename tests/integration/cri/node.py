"""A private containerd with its CRI plugin on, as a node's kubelet would
find it: runtime handlers "gkrun" and "runc" (both io.containerd.runc.v2,
cgroupfs), a local pause image, CNI for pod networks.

Hermetic: containerd runs from a complete config written here, in a network
namespace of its own (so the CNI bridge, the pods' veths and addresses are
made there and go with it), and everything it keeps is under one
/tmp/gk-ctrd-* directory; the pods' cgroups go under a parent of ours.
libcni keeps its result cache in /var/lib/cni/results whatever the config
says: teardown removes our entries there (named after our network or
sandboxes).  What containerd still opens in /etc (seen with strace): the
host's /etc/hosts, which its CRI copies into each sandbox (nothing in 1.6
turns that off; resolv.conf it does not read, since every pod here has a
dns_config), /etc/nri/conf.json, whose absence keeps NRI off (1.6 has no
setting for it), and /etc/localtime.
"""
import json
import os
import shutil
import subprocess
import uuid

from conftest import GKRUN
from ctrd import CRI, default_config, list_dir, private_containerd, quietly
from gkimage import Image
from orch import RUNC, build_rootfs_tar

HERE = os.path.dirname(os.path.abspath(__file__))
PAUSE_IMAGE = "localhost/gk-pause:latest"
BUSYBOX_IMAGE = "localhost/gk-cri-busybox:latest"
HANDLERS = {"gkrun": GKRUN, "runc": RUNC}
CNI_BIN = "/usr/lib/cni"  # Debian's containernetworking-plugins
CNI_RESULTS = "/var/lib/cni/results"
# The pods' addresses: TEST-NET-1, on a bridge in containerd's own network
# namespace; nothing here sends traffic to them.
POD_SUBNET = "192.0.2.0/24"


def missing_tools():
    """A skip reason when what the node needs is not installed ("" if all is)."""
    for prog in ("unshare", "ip", "cc"):
        if not shutil.which(prog):
            return "%s is not installed" % prog
    for plugin in ("loopback", "bridge", "host-local"):
        if not os.access(os.path.join(CNI_BIN, plugin), os.X_OK):
            return ("CNI plugin %s/%s is not installed (containernetworking-plugins: "
                    "contrib/install-deps.sh --test)" % (CNI_BIN, plugin))
    return ""


def cri_config(d, network):
    """The complete config: containerd's defaults, made private (ctrd.py),
    with the CRI plugin set up for these tests."""
    runtimes = {
        name: {"runtime_type": "io.containerd.runc.v2",
               "options": {"BinaryName": binary, "Root": os.path.join(d, "runtime-root", name),
                           "SystemdCgroup": False}}
        for name, binary in HANDLERS.items()
    }
    cfg = default_config()
    cfg["plugins"][CRI].update({
        "sandbox_image": PAUSE_IMAGE,
        # The sandbox's spec asks for oom_score_adj -998, which needs
        # CAP_SYS_RESOURCE in the initial user namespace: a VM without it
        # (this CI's) fails every sandbox under any runtime.  Restricted,
        # containerd asks for no less than its own score.
        "restrict_oom_score_adj": True,
        # The pods' network namespaces are bind-mounted under our state
        # directory, not /var/run/netns.
        "netns_mounts_under_state_dir": True,
        # No AppArmor profile loaded through the host's apparmor_parser.
        "disable_apparmor": True,
        "stream_server_address": "127.0.0.1",
        "stream_server_port": "0",
    })
    cfg["plugins"][CRI]["cni"]["max_conf_num"] = 1
    cfg["plugins"][CRI]["containerd"].update({"default_runtime_name": "runc",
                                              "snapshotter": "overlayfs"})
    cfg["plugins"][CRI]["containerd"]["runtimes"] = runtimes
    write_cni_conf(d, network)
    return cfg


def write_cni_conf(d, network):
    """One bridge network, host-local addresses kept under D.  containerd
    adds the loopback network itself.  The plugin directory (ctrd.py makes
    the CNI paths private) holds links to the plugins this uses, alone."""
    os.makedirs(os.path.join(d, "cni", "bin"))
    for plugin in ("loopback", "bridge", "host-local"):
        os.symlink(os.path.join(CNI_BIN, plugin), os.path.join(d, "cni", "bin", plugin))
    conf = {"cniVersion": "0.4.0", "name": network, "plugins": [{
        "type": "bridge", "bridge": "gkcri0", "isGateway": False, "ipMasq": False,
        "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_SUBNET}]],
                 "dataDir": os.path.join(d, "cni", "ipam")},
    }]}
    os.makedirs(os.path.join(d, "cni", "net.d"), exist_ok=True)
    with open(os.path.join(d, "cni", "net.d", "10-gk.conflist"), "w") as f:
        json.dump(conf, f)


def build_pause(outdir):
    """pause.c, static, into OUTDIR."""
    out = os.path.join(outdir, "pause")
    subprocess.run(["cc", "-static", "-O2", "-o", out, os.path.join(HERE, "pause.c")],
                   check=True)
    with open(out, "rb") as f:
        return f.read()


def import_images(cd, imgdir):
    """The pause image and a busybox one (with gk-probe), as oci-archives,
    into the CRI plugin's namespace."""
    pause = Image([[{"name": "pause", "data": build_pause(imgdir), "mode": 0o755}]],
                  config={"Entrypoint": ["/pause"]})
    with open(build_rootfs_tar(imgdir), "rb") as f:
        rootfs = f.read()
    busybox = Image([rootfs], config={
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["/bin/sh"]})
    for img, ref in ((pause, PAUSE_IMAGE), (busybox, BUSYBOX_IMAGE)):
        name, tag = ref.rsplit(":", 1)
        archive = img.oci_archive(os.path.join(imgdir, name.replace("/", "_") + ".tar"), tag)
        cd.ctr("images", "import", "--base-name", name, archive, check=True, timeout=120)


def cri_containerd(tmp_path_factory):
    """Yields the started Containerd (ns "k8s.io", cgroup parent and CNI
    network of our own); stops it and removes all it made after."""
    tag = uuid.uuid4().hex[:12]
    network = "gk-cri-" + tag
    results_before = list_dir(CNI_RESULTS)
    had_cni_dir = os.path.exists("/var/lib/cni")
    gen = private_containerd(tmp_path_factory, lambda d: cri_config(d, network),
                             images=import_images, ns="k8s.io",
                             cgroup_parent="gk-cri-" + tag, netns=True)
    cd = next(gen)
    cd.network = network
    try:
        yield cd
    finally:
        quietly(next, gen, None)
        remove_cni_results(cd, results_before, had_cni_dir)


def remove_cni_results(cd, before, had_cni_dir):
    for name in list_dir(CNI_RESULTS) - before:
        if name.startswith(cd.network + "-") or any(i in name for i in cd.ids):
            quietly(os.unlink, os.path.join(CNI_RESULTS, name))
    if not had_cni_dir:
        for sub in ("results", ""):
            quietly(os.rmdir, os.path.join("/var/lib/cni", sub))
