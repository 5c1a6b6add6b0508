"""Differences between runc 1.1.5 and gkrun that test_differential.py
accepts, each with its reason.

An entry: bundle and key (fnmatch patterns over the bundle names of
test_differential.py and the keys of its observations), optionally runc
and gkrun (patterns the two values must match; a value that is not a
string is matched as its JSON), like="crun" when gkrun does what crun does
(checked when crun runs), and reason: a runc bug or limitation, or a
deliberate choice with the bundle-spec/ page that documents it, or "BUG:"
for a gkrun bug not fixed yet.  An entry that matches no difference any
more fails the test: delete it.
"""
ALLOW = [
    # --- cgroups ---------------------------------------------------------------------
    dict(bundle="*-spec", key="mounts:/sys/fs/cgroup/*:root", runc="/*<id>", gkrun="/gkrun/<id>",
         reason="no cgroupsPath: runc 1.1.5 uses /ID (memory: under its own cgroup), gkrun "
                "/gkrun/ID, never under the caller's cgroup (bundle-spec/cgroups.md, "
                "linux.cgroupsPath)"),
    dict(bundle="*-spec", key="proc:/proc/self/cgroup", gkrun="*:/gkrun/<id>*",
         reason="as above: the default cgroup path (bundle-spec/cgroups.md)"),
    dict(bundle="*", key="mounts:/sys/fs/cgroup/unified", runc="<absent>",
         reason="hybrid host: gkrun binds the container's directory of the unified hierarchy "
                "too, runc 1.1.5 only the v1 ones (bundle-spec/cgroups.md, the cgroup mount)"),
    dict(bundle="*", key="mounts:/sys/fs/cgroup:opts", runc="rw,*", gkrun="ro,*",
         reason="a read-only cgroup mount: gkrun makes the whole tree read-only, the tmpfs "
                "included; runc 1.1.5 leaves its tmpfs writable (bundle-spec/cgroups.md)"),
    dict(bundle="cgroupns", key="mounts:/sys/fs/cgroup:super", runc="rw,mode=755",
         gkrun="ro,mode=755",
         reason="as above, with a cgroup namespace the tmpfs is remounted read-only "
                "(bundle-spec/cgroups.md)"),
    dict(bundle="*", key="paths:/sys/fs/cgroup:mode", runc="d0555", gkrun="d0755",
         reason="runc 1.1.5's (writable) cgroup tmpfs root has mode 0555, gkrun's read-only "
                "one 0755 (bundle-spec/cgroups.md)"),
    dict(bundle="cgroupns", key="mounts:/sys/fs/cgroup/systemd:source", runc="systemd",
         gkrun="cgroup",
         reason="the source of a fresh name=systemd mount is free text: runc 1.1.5 writes "
                "the hierarchy's name, gkrun `cgroup` as for every hierarchy"),
    # --- masked paths ------------------------------------------------------------------
    dict(bundle="*", key="mounts:*:super", runc="ro*", gkrun="ro,size=0k,mode=755*",
         reason="a masked directory: gkrun's empty read-only tmpfs has size=0k and mode 0755, "
                "runc 1.1.5's no options (mode 1777) (bundle-spec/README.md, linux.maskedPaths)"),
    # --- process and namespaces ---------------------------------------------------------
    dict(bundle="hostname", key="domainname", runc="(none)", gkrun="example.org", like="crun",
         reason="runc 1.1.5 ignores config.json's domainname (runc 1.2 sets it)"),
    dict(bundle="userns", key="dev:/dev/mqueue:gid", runc="65534", gkrun="0", like="crun",
         reason="runc 1.1.5 makes the IPC namespace, and with it the mqueue root, while its "
                "init has uid 0 but not yet gid 0 in the user namespace; gkrun once it has both"),
    # --- runtime-spec 1.2/1.3 process fields (bundle-spec/process-attributes.md) --------
    dict(bundle="sched-batch", key="sched:*", runc="0",
         reason="process.scheduler (runtime-spec 1.2): runc 1.1.5 and crun 1.8.1 predate it "
                "and ignore it; gkrun applies it with sched_setattr"),
    dict(bundle="io-priority", key="ioprio", runc="0",
         reason="process.ioPriority (runtime-spec 1.2): runc 1.1.5 and crun 1.8.1 predate it "
                "and ignore it; gkrun applies it with ioprio_set"),
    dict(bundle="personality-flags", key="personality", runc="0",
         reason="linux.personality.flags: runc and crun ignore the flags (runc warns); gkrun "
                "applies personality(2)'s flags it knows and refuses the others"),
    dict(bundle="memory-policy", key="mempolicy*", runc="0",
         reason="linux.memoryPolicy (runtime-spec 1.3): runc 1.1.5 and crun 1.8.1 predate it "
                "and ignore it; gkrun applies it with set_mempolicy"),
    # --- refused at create -------------------------------------------------------------
    dict(bundle="mount-label", key="failed", runc="invalid argument", gkrun="other",
         reason="linux.mountLabel on a host without SELinux: gkrun refuses it at create, "
                "naming the field, before anything is made; runc 1.1.5 fails later, at the "
                "first mount with context= (EINVAL), and crun 1.8.1 ignores the label"),
    dict(bundle="caps-unknown", key="exit", runc="0", gkrun="1",
         reason="an unknown capability name is refused (bundle-spec/README.md, process); "
                "runc 1.1.5 warns and ignores it"),
    dict(bundle="caps-unknown", key="failed", runc="<absent>", gkrun="unknown capability",
         reason="as above"),
    # --- rootless: run by an unprivileged user (bundle-spec/rootless.md) ----------------
    dict(bundle="rootless-*", key="mounts:/sys/fs/cgroup#2:opts", runc="rw,*", gkrun="ro,*",
         reason="no cgroup of its own (nothing delegated): the cgroup mount over the bound "
                "/sys is read-only as asked; runc 1.1.5 leaves its tmpfs writable "
                "(bundle-spec/cgroups.md, bundle-spec/rootless.md)"),
    dict(bundle="rootless-*", key="mounts:/sys/fs/cgroup/unified#2", runc="<absent>",
         reason="hybrid host: gkrun binds the unified hierarchy's directory too, runc 1.1.5 "
                "only the v1 ones (bundle-spec/cgroups.md, the cgroup mount)"),
    dict(bundle="rootless-sysfs-no-netns", key="exit", runc="1", gkrun="0", like="crun",
         reason="a user namespace cannot mount sysfs without owning the network namespace: "
                "gkrun binds the host's /sys instead, as crun does; runc 1.1.5 fails with "
                "EPERM (opencontainers/runc#3672) (bundle-spec/rootless.md)"),
    dict(bundle="rootless-sysfs-no-netns", key="failed", runc="operation not permitted",
         gkrun="<absent>", reason="as above"),
    dict(bundle="rootless-locked-flags", key="exit", runc="1", gkrun="0",
         reason="a bind of a source with nosuid,nodev,noexec (locked in a user namespace) "
                "remounted read-only: gkrun keeps the locked flags and the remount succeeds; "
                "runc 1.1.5 drops them and fails with EPERM (bundle-spec/rootless.md)"),
    dict(bundle="rootless-locked-flags", key="failed", runc="operation not permitted",
         gkrun="<absent>", reason="as above"),
    dict(bundle="rootless-additional-gids", key="failed", runc="other", gkrun="user namespace",
         reason="both refuse additionalGids with only the user's gid mapped (setgroups is "
                "denied); gkrun at create, naming the field and the user namespace, runc "
                "1.1.5 in its init (\"cannot set any additional groups in a rootless "
                "container\") (bundle-spec/rootless.md)"),
]
