/* Unit tests of the config.json model (lib/spec_*.c): a full config
 * round-trips through emit and parse, every class of bad input gets its
 * exact message, the default specs parse back, mount options decompose,
 * and numbers above INT64_MAX survive. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "gk/cleanup.h"
#include "gk/spec.h"
#include "gk/util.h"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_NOATIME 0x00000010
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static const char full_json[] =
        "{\n"
        "  \"ociVersion\": \"1.2.0\",\n"
        "  \"process\": {\n"
        "    \"terminal\": true,\n"
        "    \"consoleSize\": {\"height\": 25, \"width\": 80},\n"
        "    \"user\": {\"uid\": 1000, \"gid\": 1001, \"umask\": 18, \"additionalGids\": [5, 6], \"username\": \"u\"},\n"
        "    \"args\": [\"sh\", \"-c\", \"echo hi\"],\n"
        "    \"env\": [\"PATH=/bin\", \"TERM=xterm\"],\n"
        "    \"cwd\": \"/work\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", \"CAP_CHECKPOINT_RESTORE\"],\n"
        "      \"effective\": [\"CAP_KILL\"],\n"
        "      \"inheritable\": [],\n"
        "      \"permitted\": [\"CAP_KILL\", \"CAP_SYS_ADMIN\"],\n"
        "      \"ambient\": [\"CAP_NET_BIND_SERVICE\"]\n"
        "    },\n"
        "    \"rlimits\": [\n"
        "      {\"type\": \"RLIMIT_NOFILE\", \"hard\": 4096, \"soft\": 1024},\n"
        "      {\"type\": \"RLIMIT_CORE\", \"hard\": 18446744073709551615, \"soft\": 18446744073709551615}\n"
        "    ],\n"
        "    \"noNewPrivileges\": true,\n"
        "    \"apparmorProfile\": \"gk-default\",\n"
        "    \"oomScoreAdj\": -500,\n"
        "    \"selinuxLabel\": \"system_u:system_r:container_t:s0\",\n"
        "    \"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 4},\n"
        "    \"unknownProcessField\": {\"ignored\": true}\n"
        "  },\n"
        "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
        "  \"hostname\": \"box\",\n"
        "  \"domainname\": \"example.org\",\n"
        "  \"mounts\": [\n"
        "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
        "    {\"destination\": \"/data\", \"type\": \"none\", \"source\": \"/srv/data\", \"options\": [\"rbind\", \"rro\", \"rprivate\", \"nosymfollow\"]},\n"
        "    {\"destination\": \"/idm\", \"type\": \"bind\", \"source\": \"/srv/idm\", \"options\": [\"bind\", \"idmap\"],\n"
        "     \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],\n"
        "     \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}\n"
        "  ],\n"
        "  \"hooks\": {\n"
        "    \"prestart\": [{\"path\": \"/bin/true\"}],\n"
        "    \"createRuntime\": [{\"path\": \"/usr/bin/hook\", \"args\": [\"hook\", \"create\"], \"env\": [\"A=1\"], \"timeout\": 5}],\n"
        "    \"createContainer\": [{\"path\": \"/bin/cc\"}],\n"
        "    \"startContainer\": [{\"path\": \"/bin/sc\"}],\n"
        "    \"poststart\": [{\"path\": \"/bin/ps1\"}, {\"path\": \"/bin/ps2\"}],\n"
        "    \"poststop\": [{\"path\": \"/bin/stop\", \"timeout\": 1}]\n"
        "  },\n"
        "  \"annotations\": {\"org.example.key\": \"value\", \"gk.net\": \"none\"},\n"
        "  \"linux\": {\n"
        "    \"namespaces\": [\n"
        "      {\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/var/run/netns/x\"}, {\"type\": \"ipc\"},\n"
        "      {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}, {\"type\": \"cgroup\"}, {\"type\": \"time\"}\n"
        "    ],\n"
        "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}, {\"containerID\": 1, \"hostID\": 200000, \"size\": 65535}],\n"
        "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],\n"
        "    \"timeOffsets\": {\"monotonic\": {\"secs\": -100, \"nanosecs\": 5}, \"boottime\": {\"secs\": 86400, \"nanosecs\": 0}},\n"
        "    \"devices\": [\n"
        "      {\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438, \"uid\": 0, \"gid\": 0},\n"
        "      {\"path\": \"/dev/fifo\", \"type\": \"p\"}\n"
        "    ],\n"
        "    \"cgroupsPath\": \"/gk/test\",\n"
        "    \"resources\": {\n"
        "      \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": \"rw\"}, {\"allow\": true, \"type\": \"b\", \"major\": 8}],\n"
        "      \"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": -1, \"kernel\": -1, \"kernelTCP\": 1000, \"swappiness\": 0, \"disableOOMKiller\": false, \"useHierarchy\": true, \"checkBeforeUpdate\": true},\n"
        "      \"cpu\": {\"shares\": 1024, \"quota\": 100000, \"burst\": 1000, \"period\": 100000, \"realtimeRuntime\": 950000, \"realtimePeriod\": 1000000, \"cpus\": \"0-1\", \"mems\": \"0\", \"idle\": 0},\n"
        "      \"pids\": {\"limit\": 100},\n"
        "      \"blockIO\": {\"weight\": 500, \"leafWeight\": 300,\n"
        "        \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 600, \"leafWeight\": 200}],\n"
        "        \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],\n"
        "        \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 2097152}],\n"
        "        \"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 100}],\n"
        "        \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 200}]},\n"
        "      \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],\n"
        "      \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\", \"priority\": 500}]},\n"
        "      \"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}},\n"
        "      \"unified\": {\"memory.high\": \"400000000\", \"io.weight\": \"default 100\"}\n"
        "    },\n"
        "    \"rootfsPropagation\": \"rslave\",\n"
        "    \"seccomp\": {\n"
        "      \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
        "      \"defaultErrnoRet\": 1,\n"
        "      \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],\n"
        "      \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
        "      \"listenerPath\": \"/run/seccomp.sock\",\n"
        "      \"listenerMetadata\": \"meta\",\n"
        "      \"syscalls\": [\n"
        "        {\"names\": [\"read\", \"write\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
        "        {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},\n"
        "        {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},\n"
        "        {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38},\n"
        "        {\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_NOTIFY\"},\n"
        "        {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}\n"
        "      ]\n"
        "    },\n"
        "    \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"4294967296\"},\n"
        "    \"maskedPaths\": [\"/proc/kcore\", \"/sys/firmware\"],\n"
        "    \"readonlyPaths\": [\"/proc/sys\"],\n"
        "    \"mountLabel\": \"system_u:object_r:container_file_t:s0\",\n"
        "    \"intelRdt\": {\"closID\": \"guaranteed_group\"},\n"
        "    \"personality\": {\"domain\": \"LINUX32\", \"flags\": []}\n"
        "  },\n"
        "  \"unknownTopLevel\": [1, 2, 3]\n"
        "}\n";

/* Test configs are written with ' for " to stay readable. */
static char *dq(const char *s)
{
        char *d = strdup(s);

        assert_non_null(d);
        for (char *p = d; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return d;
}

static gk_spec *parse_ok(const char *text)
{
        gk_spec *s = NULL;
        gk_error *err = NULL;

        if (gk_spec_parse(text, strlen(text), "config.json", &s, &err) < 0)
                fail_msg("unexpected error: %s", err->msg);
        return s;
}

static char *emit_ok(const gk_spec *s)
{
        char *out = NULL;
        size_t len = 0;
        gk_error *err = NULL;

        assert_int_equal(gk_spec_emit(s, &out, &len, &err), 0);
        assert_int_equal(strlen(out), len);
        return out;
}

static void check_full(const gk_spec *s)
{
        const gk_process *p = s->process;
        const gk_linux *l = &s->linux;

        assert_string_equal(s->oci_version, "1.2.0");
        assert_non_null(p);
        assert_true(p->terminal);
        assert_true(p->console_size.present);
        assert_int_equal(p->console_size.width, 80);
        assert_int_equal(p->user.uid, 1000);
        assert_int_equal(p->user.gid, 1001);
        assert_true(p->user.has_umask);
        assert_int_equal(p->user.umask, 022);
        assert_int_equal(p->user.n_additional_gids, 2);
        assert_int_equal(p->user.additional_gids[1], 6);
        assert_int_equal(p->n_args, 3);
        assert_string_equal(p->args[2], "echo hi");
        assert_null(p->args[3]);
        assert_string_equal(p->env[1], "TERM=xterm");
        assert_string_equal(p->cwd, "/work");
        assert_int_equal(p->capabilities.bounding.n, 3);
        assert_int_equal(p->capabilities.bounding.caps[2], 40);
        assert_int_equal(p->capabilities.inheritable.n, 0);
        assert_int_equal(p->capabilities.permitted.caps[1], 21);
        assert_int_equal(p->n_rlimits, 2);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[0].hard, 4096);
        assert_true(p->rlimits[1].soft == UINT64_MAX);
        assert_true(p->no_new_privileges);
        assert_int_equal(p->oom_score_adj, -500);
        assert_true(p->io_priority.present);
        assert_int_equal(p->io_priority.class, 2);
        assert_int_equal(p->io_priority.priority, 4);
        assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
        assert_true(s->root.readonly);
        assert_string_equal(s->domainname, "example.org");
        assert_int_equal(s->n_mounts, 4);
        assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
        assert_true(s->mounts[2].recursive);
        assert_true(s->mounts[3].idmap);
        assert_int_equal(s->mounts[3].uid_mappings[0].host_id, 100000);
        assert_int_equal(s->hooks.create_runtime.hooks[0].timeout, 5);
        assert_string_equal(s->hooks.create_runtime.hooks[0].args[1], "create");
        assert_int_equal(s->hooks.poststart.n, 2);
        assert_string_equal(gk_spec_annotation(s, "gk.net"), "none");
        assert_null(gk_spec_annotation(s, "nope"));
        for (int t = 0; t < GK_NS_COUNT; t++)
                assert_true(l->namespaces[t].present);
        assert_string_equal(l->namespaces[GK_NS_NETWORK].path, "/var/run/netns/x");
        assert_int_equal(l->n_uid_mappings, 2);
        assert_int_equal(l->uid_mappings[1].size, 65535);
        assert_int_equal(l->time_offsets_monotonic.secs, -100);
        assert_int_equal(l->time_offsets_monotonic.nanosecs, 5);
        assert_int_equal(l->devices[0].minor, 229);
        assert_int_equal(l->devices[0].file_mode, 0666);
        assert_int_equal(l->devices[1].type, 'p');
        assert_string_equal(l->cgroups_path, "/gk/test");
        assert_int_equal(l->resources.n_devices, 3);
        assert_int_equal(l->resources.devices[0].type, 'a');
        assert_int_equal(l->resources.devices[0].major, -1);
        assert_int_equal(l->resources.devices[2].minor, -1);
        assert_null(l->resources.devices[2].access);
        assert_int_equal(l->resources.memory.limit, 536870912);
        assert_int_equal(l->resources.memory.swap, -1);
        assert_true(l->resources.memory.has_disable_oom_killer);
        assert_false(l->resources.memory.disable_oom_killer);
        assert_false(l->resources.memory.has_kernel_tcp == false);
        assert_string_equal(l->resources.cpu.cpus, "0-1");
        assert_int_equal(l->resources.pids_limit, 100);
        assert_int_equal(l->resources.blkio.weight_device[0].weight, 600);
        assert_int_equal(l->resources.blkio.throttle_write_bps[0].minor, 16);
        assert_int_equal(l->resources.hugepage_limits[0].limit, 209715200);
        assert_int_equal(l->resources.net_class_id, 1048577);
        assert_string_equal(l->resources.rdma[0].device, "mlx5_1");
        assert_int_equal(l->resources.rdma[0].hca_objects, 10000);
        assert_string_equal(l->resources.unified[1].value, "default 100");
        assert_int_equal(l->rootfs_propagation_flags, MS_SLAVE | MS_REC);
        assert_true(l->seccomp.present);
        assert_int_equal(l->seccomp.default_action, GK_SCMP_ERRNO);
        assert_int_equal(l->seccomp.default_errno_ret, 1);
        assert_int_equal(l->seccomp.n_syscalls, 6);
        assert_int_equal(l->seccomp.syscalls[1].args[0].value, 4294967295u);
        assert_int_equal(l->seccomp.syscalls[2].args[0].op, GK_SCMP_CMP_MASKED_EQ);
        assert_int_equal(l->seccomp.syscalls[3].errno_ret, 38);
        assert_int_equal(l->seccomp.syscalls[5].action, GK_SCMP_KILL_PROCESS);
        assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
        assert_int_equal(l->n_masked_paths, 2);
        assert_string_equal(l->readonly_paths[0], "/proc/sys");
        assert_string_equal(l->intel_rdt.clos_id, "guaranteed_group");
        assert_string_equal(l->personality.domain, "LINUX32");
}

static void test_full_round_trip(void **state)
{
        gk_spec *a = parse_ok(full_json), *b;
        char *t1, *t2;

        check_full(a);
        t1 = emit_ok(a);
        b = parse_ok(t1);
        check_full(b);
        t2 = emit_ok(b);
        assert_string_equal(t1, t2);
        /* Values above INT64_MAX are written as the unsigned numbers. */
        assert_non_null(strstr(t1, "\"soft\": 18446744073709551615"));
        assert_null(strstr(t1, "unknownTopLevel"));
        gk_spec_free(a);
        gk_spec_free(b);
        free(t1);
        free(t2);
}

#define BASE(f) "{'ociVersion':'1.0.2','root':{'path':'r'}," f "}"
#define PROC(f) BASE("'process':{'args':['sh'],'cwd':'/'," f "}")
#define LNX(f) BASE("'linux':{" f "}")
#define RES(f) LNX("'resources':{" f "}")
#define SCMP(f) LNX("'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'," f "}")
#define SYSCALL(f) SCMP("'syscalls':[{'names':['read']," f "}]")
#define P "config.json: "

static const struct {
        const char *json, *msg;
} bad[] = {
        /* top level */
        { "[]", P "must be a JSON object" },
        { "{}", P "ociVersion: required" },
        { "{'ociVersion':1}", P "ociVersion: must be a string" },
        { "{'ociVersion':'2.0.0','root':{'path':'r'}}",
          P "ociVersion: unsupported version \"2.0.0\" (gk supports 1.x)" },
        { "{'ociVersion':'1.0.0'}", P "root: required" },
        { "{'ociVersion':'1.0.0','root':'r'}", P "root: must be an object" },
        { "{'ociVersion':'1.0.0','root':{}}", P "root.path: required" },
        { "{'ociVersion':'1.0.0','root':{'path':''}}", P "root.path: must not be empty" },
        { "{'ociVersion':'1.0.0','root':{'path':'r','readonly':'yes'}}",
          P "root.readonly: must be a boolean" },
        { BASE("'hostname':5"), P "hostname: must be a string" },
        { BASE("'annotations':{'a':'b','c':1}"), P "annotations[\"c\"]: must be a string" },
        { BASE("'annotations':[]"), P "annotations: must be an object" },
        { BASE("'linux':[]"), P "linux: must be an object" },
        /* process */
        { BASE("'process':5"), P "process: must be an object" },
        { BASE("'process':{'cwd':'/'}"), P "process.args: must be a non-empty array" },
        { BASE("'process':{'args':[],'cwd':'/'}"), P "process.args: must be a non-empty array" },
        { BASE("'process':{'args':'sh','cwd':'/'}"), P "process.args: must be a non-empty array" },
        { BASE("'process':{'args':['sh',1],'cwd':'/'}"), P "process.args[1]: must be a string" },
        { BASE("'process':{'args':['sh']}"), P "process.cwd: required" },
        { BASE("'process':{'args':['sh'],'cwd':'tmp'}"),
          P "process.cwd: must be an absolute path" },
        { PROC("'terminal':1"), P "process.terminal: must be a boolean" },
        { PROC("'env':'A=1'"), P "process.env: must be an array of strings" },
        { PROC("'env':['A=1',null]"), P "process.env[1]: must be a string" },
        { PROC("'user':[]"), P "process.user: must be an object" },
        { PROC("'user':{'uid':-1}"), P "process.user.uid: must be a non-negative integer" },
        { PROC("'user':{'uid':'0'}"), P "process.user.uid: must be a non-negative integer" },
        { PROC("'user':{'gid':4294967296}"), P "process.user.gid: must be at most 4294967295" },
        { PROC("'user':{'umask':512}"), P "process.user.umask: must be at most 511" },
        { PROC("'user':{'additionalGids':[1,'a']}"),
          P "process.user.additionalGids[1]: must be a non-negative integer" },
        { PROC("'capabilities':[]"), P "process.capabilities: must be an object" },
        { PROC("'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN','CAP_FOO']}"),
          P "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"" },
        { PROC("'capabilities':{'ambient':['kill']}"),
          P "process.capabilities.ambient[0]: unknown capability \"kill\"" },
        { PROC("'capabilities':{'effective':'CAP_KILL'}"),
          P "process.capabilities.effective: must be an array of strings" },
        { PROC("'rlimits':{}"), P "process.rlimits: must be an array" },
        { PROC("'rlimits':[5]"), P "process.rlimits[0]: must be an object" },
        { PROC("'rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]"),
          P "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
        { PROC("'rlimits':[{'soft':1,'hard':1}]"), P "process.rlimits[0].type: required" },
        { PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},"
               "{'type':'RLIMIT_NOFILE','soft':1,'hard':1}]"),
          P "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"" },
        { PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':-1,'hard':1}]"),
          P "process.rlimits[0].soft: must be a non-negative integer" },
        { PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':18446744073709551616,'hard':1}]"),
          P "process.rlimits[0].soft: must be a non-negative integer" },
        { PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':1}]"),
          P "process.rlimits[0].hard: required" },
        { PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':2,'hard':1}]"),
          P "process.rlimits[0]: soft limit is above the hard limit" },
        { PROC("'noNewPrivileges':'true'"), P "process.noNewPrivileges: must be a boolean" },
        { PROC("'oomScoreAdj':1001"), P "process.oomScoreAdj: must be between -1000 and 1000" },
        { PROC("'oomScoreAdj':-1001"), P "process.oomScoreAdj: must be between -1000 and 1000" },
        { PROC("'oomScoreAdj':1.5"), P "process.oomScoreAdj: must be an integer" },
        { PROC("'consoleSize':{'height':1}"), P "process.consoleSize.width: required" },
        { PROC("'ioPriority':{'class':'IOPRIO_CLASS_FOO'}"),
          P "process.ioPriority.class: unknown class \"IOPRIO_CLASS_FOO\"" },
        { PROC("'ioPriority':{'class':'IOPRIO_CLASS_RT','priority':8}"),
          P "process.ioPriority.priority: must be between 0 and 7" },
        { PROC("'apparmorProfile':[]"), P "process.apparmorProfile: must be a string" },
        /* mounts */
        { BASE("'mounts':{}"), P "mounts: must be an array" },
        { BASE("'mounts':[{'destination':'/a'},'x']"), P "mounts[1]: must be an object" },
        { BASE("'mounts':[{'type':'tmpfs'}]"), P "mounts[0].destination: required" },
        { BASE("'mounts':[{'destination':'/a','type':1}]"), P "mounts[0].type: must be a string" },
        { BASE("'mounts':[{},{},{},{'destination':'/a','options':['ro',7]}]"),
          P "mounts[0].destination: required" },
        { BASE("'mounts':[{'destination':'/a'},{'destination':'/b'},{'destination':'/c'},"
               "{'destination':'/a','options':['ro',7]}]"),
          P "mounts[3].options[1]: must be a string" },
        { BASE("'mounts':[{'destination':'/a','options':['ro','']}]"),
          P "mounts[0].options[1]: must not be empty" },
        { BASE("'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,'size':1}]}]"),
          P "mounts[0].gidMappings: required with uidMappings" },
        { BASE("'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,'size':0}]}]"),
          P "mounts[0].uidMappings[0]: range out of bounds (size must be positive and the range "
            "within 32 bits)" },
        /* hooks */
        { BASE("'hooks':[]"), P "hooks: must be an object" },
        { BASE("'hooks':{'createRuntime':{}}"), P "hooks.createRuntime: must be an array" },
        { BASE("'hooks':{'prestart':[{'path':'true'}]}"),
          P "hooks.prestart[0].path: must be an absolute path" },
        { BASE("'hooks':{'poststart':[{'args':['x']}]}"), P "hooks.poststart[0].path: required" },
        { BASE("'hooks':{'poststop':[{'path':'/x'},{'path':'/x','timeout':0}]}"),
          P "hooks.poststop[1].timeout: must be a positive integer" },
        { BASE("'hooks':{'startContainer':[{'path':'/x','timeout':-3}]}"),
          P "hooks.startContainer[0].timeout: must be a positive integer" },
        { BASE("'hooks':{'createContainer':[{'path':'/x','env':[1]}]}"),
          P "hooks.createContainer[0].env[0]: must be a string" },
        /* linux */
        { LNX("'namespaces':[{'type':'pid'},{'type':'foo'}]"),
          P "linux.namespaces[1].type: unknown namespace \"foo\"" },
        { LNX("'namespaces':[{'type':'pid'},{'type':'net'}]"),
          P "linux.namespaces[1].type: unknown namespace \"net\"" },
        { LNX("'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}]"),
          P "linux.namespaces[2].type: duplicate namespace \"pid\"" },
        { LNX("'namespaces':[{'path':'/x'}]"), P "linux.namespaces[0].type: required" },
        { LNX("'namespaces':[{'type':'network','path':'x'}]"),
          P "linux.namespaces[0].path: must be an absolute path" },
        { LNX("'namespaces':[{'type':'user'}]"),
          P "linux.uidMappings: required with a new user namespace" },
        { LNX("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1,'size':1}]"),
          P "linux.gidMappings: required with a new user namespace" },
        { LNX("'uidMappings':[{'containerID':0,'hostID':1,'size':1}]"),
          P "linux.uidMappings: given but linux.namespaces has no user namespace" },
        { LNX("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1}]"),
          P "linux.uidMappings[0].size: required" },
        { LNX("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':4294967295,'hostID':1,'size':2}]"),
          P
          "linux.uidMappings[0]: range out of bounds (size must be positive and the range within "
          "32 bits)" },
        { LNX("'devices':[{'path':'/dev/x','type':'x','major':1,'minor':1}]"),
          P "linux.devices[0].type: unknown device type \"x\" (want c, b, u or p)" },
        { LNX("'devices':[{'path':'dev/x','type':'c','major':1,'minor':1}]"),
          P "linux.devices[0].path: must be an absolute path" },
        { LNX("'devices':[{'path':'/dev/x','type':'c','minor':1}]"),
          P "linux.devices[0].major: required for a character or block device" },
        { LNX("'devices':[{'path':'/dev/x','type':'b','major':-1,'minor':1}]"),
          P "linux.devices[0].major: must be between 0 and 9223372036854775807" },
        { LNX("'devices':[{'path':'/dev/x','type':'p','fileMode':65536}]"),
          P "linux.devices[0].fileMode: must be at most 65535" },
        /* podman's file-type bits must agree with type: 025014 is a block device */
        { LNX("'devices':[{'path':'/dev/x','type':'c','major':1,'minor':3,'fileMode':25014}]"),
          P "linux.devices[0].fileMode: file type 060000 contradicts type \"c\"" },
        { LNX("'devices':[{'path':'/dev/x','type':'b','major':8,'minor':0,'fileMode':8630}]"),
          P "linux.devices[0].fileMode: file type 020000 contradicts type \"b\"" },
        { LNX("'devices':[{'path':'/dev/x','type':'p','fileMode':8630}]"),
          P "linux.devices[0].fileMode: file type 020000 contradicts type \"p\"" },
        { LNX("'devices':[{'path':'/dev/x','type':'u','major':1,'minor':3,'fileMode':33206}]"),
          P "linux.devices[0].fileMode: file type 0100000 contradicts type \"u\"" },
        { LNX("'sysctl':{'a':1}"), P "linux.sysctl[\"a\"]: must be a string" },
        { LNX("'maskedPaths':['/a','b']"), P "linux.maskedPaths[1]: must be an absolute path" },
        { LNX("'readonlyPaths':'/a'"), P "linux.readonlyPaths: must be an array of strings" },
        { LNX("'rootfsPropagation':'foo'"),
          P "linux.rootfsPropagation: unknown propagation \"foo\"" },
        { LNX("'cgroupsPath':1"), P "linux.cgroupsPath: must be a string" },
        { LNX("'personality':{'domain':'FOO'}"),
          P "linux.personality.domain: unknown domain \"FOO\" (want LINUX or LINUX32)" },
        { LNX("'personality':{}"), P "linux.personality.domain: required" },
        { LNX("'timeOffsets':{'monotonic':{'secs':1}}"),
          P "linux.timeOffsets: needs a new time namespace in linux.namespaces" },
        { LNX("'namespaces':[{'type':'time'}],'timeOffsets':{'boottime':{'secs':1,'nanosecs':1000000000}}"),
          P "linux.timeOffsets.boottime.nanosecs: must be at most 999999999" },
        /* seccomp */
        { LNX("'seccomp':{}"), P "linux.seccomp.defaultAction: required" },
        { LNX("'seccomp':{'defaultAction':'SCMP_ACT_FOO'}"),
          P "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"" },
        { LNX("'seccomp':{'defaultAction':'SCMP_ACT_NOTIFY'}"),
          P "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
        { LNX("'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':1}"),
          P "linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
        { SCMP("'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_FOO']"),
          P "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"" },
        { SCMP("'flags':['SECCOMP_FILTER_FLAG_FOO']"),
          P "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"" },
        { SCMP("'syscalls':{}"), P "linux.seccomp.syscalls: must be an array" },
        { SCMP("'syscalls':[{'names':[],'action':'SCMP_ACT_ALLOW'}]"),
          P "linux.seccomp.syscalls[0].names: must be a non-empty array" },
        { SYSCALL("'action':'SCMP_ACT_BAR'"),
          P "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_BAR\"" },
        { SYSCALL("'action':'SCMP_ACT_ALLOW','errnoRet':1"), P
          "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
        { SYSCALL("'action':'SCMP_ACT_NOTIFY'"),
          P "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath" },
        { SYSCALL("'action':'SCMP_ACT_ALLOW','args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]"),
          P "linux.seccomp.syscalls[0].args[0].index: must be at most 5" },
        { SYSCALL("'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':1,'op':'SCMP_CMP_FOO'}]"),
          P "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"" },
        { SYSCALL("'action':'SCMP_ACT_ALLOW','args':[{'index':0,'op':'SCMP_CMP_EQ'}]"),
          P "linux.seccomp.syscalls[0].args[0].value: required" },
        /* resources */
        { LNX("'resources':[]"), P "linux.resources: must be an object" },
        { RES("'memory':{'limit':'1G'}"), P "linux.resources.memory.limit: must be an integer" },
        { RES("'memory':{'limit':-2}"),
          P "linux.resources.memory.limit: must be between -1 and 9223372036854775807" },
        { RES("'memory':{'swappiness':101}"),
          P "linux.resources.memory.swappiness: must be at most 100" },
        { RES("'memory':{'disableOOMKiller':1}"),
          P "linux.resources.memory.disableOOMKiller: must be a boolean" },
        { RES("'cpu':{'shares':-1}"),
          P "linux.resources.cpu.shares: must be a non-negative integer" },
        { RES("'cpu':{'cpus':1}"), P "linux.resources.cpu.cpus: must be a string" },
        { RES("'devices':[{'access':'rwm'}]"), P "linux.resources.devices[0].allow: required" },
        { RES("'devices':[{'allow':true,'access':'rwx'}]"), P
          "linux.resources.devices[0].access: invalid access \"rwx\" (want a combination of r, w and m)" },
        { RES("'devices':[{'allow':true,'type':'u'}]"),
          P "linux.resources.devices[0].type: unknown device type \"u\" (want a, b or c)" },
        { RES("'blockIO':{'weight':65536}"),
          P "linux.resources.blockIO.weight: must be at most 65535" },
        { RES("'blockIO':{'weightDevice':[{'minor':0}]}"),
          P "linux.resources.blockIO.weightDevice[0].major: required" },
        { RES("'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0}]}"),
          P "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required" },
        { RES("'hugepageLimits':[{'limit':1}]"),
          P "linux.resources.hugepageLimits[0].pageSize: required" },
        { RES("'network':{'priorities':[{'name':'eth0','priority':-1}]}"),
          P "linux.resources.network.priorities[0].priority: must be a non-negative integer" },
        { RES("'rdma':{'mlx':{'hcaHandles':-1}}"),
          P "linux.resources.rdma[\"mlx\"].hcaHandles: must be a non-negative integer" },
        { RES("'unified':{'memory.max':100}"),
          P "linux.resources.unified[\"memory.max\"]: must be a string" },
};

static void test_bad_inputs(void **state)
{
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_free_ char *text = dq(bad[i].json);
                gk_spec *s = NULL;
                gk_error *err = NULL;
                int r = gk_spec_parse(text, strlen(text), "config.json", &s, &err);

                if (r >= 0)
                        fail_msg("case %zu accepted: %s", i, text);
                assert_int_equal(r, -EINVAL);
                assert_null(s);
                if (strcmp(err->msg, bad[i].msg) != 0)
                        fail_msg("case %zu: %s\n  got:  %s\n  want: %s", i, text, err->msg,
                                 bad[i].msg);
                gk_error_free(err);
        }
}

static void test_invalid_json(void **state)
{
        gk_spec *s = NULL;
        gk_error *err = NULL;

        assert_true(gk_spec_parse("{\"a\":", 5, "config.json", &s, &err) < 0);
        assert_true(gk_str_has_prefix(err->msg, "config.json: invalid JSON: "));
        gk_error_free(err);
}

static const char *const good[] = {
        /* process may be absent (create only); null counts as absent */
        BASE("'process':null,'hostname':null"),
        /* unknown fields anywhere are ignored */
        BASE("'future':{'x':[1]},'linux':{'future':1,'resources':{'future':true}}"),
        /* joining an existing user namespace needs no mappings */
        LNX("'namespaces':[{'type':'user','path':'/proc/1/ns/user'}]"),
        LNX("'namespaces':[{'type':'time'}],'timeOffsets':{'monotonic':{'secs':-5}}"),
        RES("'memory':{'limit':-1},'pids':{'limit':-1},'devices':[{'allow':true,'major':null}]"),
        /* runtime-spec 1.3: pids.limit is optional */
        RES("'pids':{}"),
        PROC("'rlimits':[{'type':'RLIMIT_AS','soft':0,'hard':0}],'oomScoreAdj':-1000"),
        BASE("'mounts':[{'destination':'/x','options':[]}]"),
};

/* runc 1.1 takes a relative mount destination from /: so does the parser,
 * and it says so for gkrun's warning. */
static void test_relative_mount_destination(void **state)
{
        _cleanup_free_ char *text = dq(
                BASE("'mounts':[{'destination':'a/b'},{'destination':'/c'}]"));
        gk_spec *s = NULL;
        gk_error *err = NULL;

        assert_int_equal(gk_spec_parse(text, strlen(text), "config.json", &s, &err), 0);
        assert_string_equal(s->mounts[0].destination, "/a/b");
        assert_true(s->mounts[0].relative_destination);
        assert_string_equal(s->mounts[1].destination, "/c");
        assert_false(s->mounts[1].relative_destination);
        gk_spec_free(s);
}

static void test_good_inputs(void **state)
{
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                _cleanup_free_ char *text = dq(good[i]);
                gk_spec *s = NULL, *s2;
                gk_error *err = NULL;
                char *out, *out2;

                if (gk_spec_parse(text, strlen(text), "config.json", &s, &err) < 0)
                        fail_msg("case %zu refused: %s: %s", i, text, err->msg);
                out = emit_ok(s);
                s2 = parse_ok(out);
                out2 = emit_ok(s2);
                assert_string_equal(out, out2);
                gk_spec_free(s);
                gk_spec_free(s2);
                free(out);
                free(out2);
        }
}

/* podman writes fileMode with the file-type bits, as runc and crun accept */
static void test_device_file_mode_type_bits(void **state)
{
        _cleanup_free_ char *text = dq(
                LNX("'devices':[{'path':'/dev/c','type':'c','major':1,'minor':3,'fileMode':8630},"
                    "{'path':'/dev/u','type':'u','major':1,'minor':3,'fileMode':8624},"
                    "{'path':'/dev/b','type':'b','major':7,'minor':0,'fileMode':25008},"
                    "{'path':'/dev/p','type':'p','fileMode':4516},"
                    "{'path':'/dev/s','type':'c','major':1,'minor':3,'fileMode':3565}]"));
        gk_spec *s = parse_ok(text);
        const gk_device *d = s->linux.devices;

        assert_true(d[0].has_file_mode);
        assert_int_equal(d[0].file_mode, 0666);
        assert_int_equal(d[1].file_mode, 0660);
        assert_int_equal(d[2].file_mode, 0660);
        assert_int_equal(d[3].file_mode, 0644);
        /* the special bits stay, as without a file type */
        assert_int_equal(d[4].file_mode, 06755);
        gk_spec_free(s);
}

static void test_null_process(void **state)
{
        _cleanup_free_ char *text = dq(BASE("'process':null"));
        gk_spec *s = parse_ok(text);

        assert_null(s->process);
        assert_string_equal(s->root.path, "r");
        assert_false(s->root.readonly);
        gk_spec_free(s);
}

static void test_default_spec(void **state)
{
        gk_spec *s = NULL, *back;
        gk_error *err = NULL;
        char *text;

        assert_int_equal(gk_spec_default(false, &s, &err), 0);
        text = emit_ok(s);
        back = parse_ok(text);
        assert_string_equal(back->process->args[0], "sh");
        assert_true(back->process->terminal);
        assert_true(back->process->no_new_privileges);
        assert_int_equal(back->process->capabilities.bounding.n, 3);
        assert_int_equal(back->process->rlimits[0].resource, RLIMIT_NOFILE);
        assert_string_equal(back->root.path, "rootfs");
        assert_true(back->root.readonly);
        assert_string_equal(back->hostname, "runc");
        assert_int_equal(back->n_mounts, 7);
        assert_string_equal(back->mounts[1].destination, "/dev");
        assert_string_equal(back->mounts[1].data, "mode=755,size=65536k");
        assert_int_equal(back->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
        assert_string_equal(back->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert_int_equal(back->mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
        assert_true(back->linux.namespaces[GK_NS_NETWORK].present);
        assert_false(back->linux.namespaces[GK_NS_USER].present);
        assert_true(back->linux.resources.present);
        assert_false(back->linux.resources.devices[0].allow);
        assert_int_equal(back->linux.n_masked_paths, 10);
        assert_int_equal(back->linux.n_readonly_paths, 5);
        /* the model gk_spec_default returns is the parsed one */
        assert_int_equal(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
        gk_spec_free(s);
        gk_spec_free(back);
        free(text);
}

static void test_default_rootless(void **state)
{
        gk_spec *s = NULL;
        gk_error *err = NULL;

        assert_int_equal(gk_spec_default(true, &s, &err), 0);
        assert_true(s->linux.namespaces[GK_NS_USER].present);
        assert_false(s->linux.namespaces[GK_NS_NETWORK].present);
        assert_int_equal(s->linux.n_uid_mappings, 1);
        assert_int_equal(s->linux.uid_mappings[0].host_id, geteuid());
        assert_int_equal(s->linux.gid_mappings[0].host_id, getegid());
        assert_int_equal(s->linux.uid_mappings[0].container_id, 0);
        assert_false(s->linux.resources.present);
        assert_string_equal(s->mounts[5].destination, "/sys");
        assert_string_equal(s->mounts[5].source, "/sys");
        assert_true(s->mounts[5].bind && s->mounts[5].recursive);
        /* no gid= inside a user namespace with one id mapped */
        assert_string_equal(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620");
        gk_spec_free(s);
}

static const struct {
        const char *options; /* JSON array body */
        unsigned long flags, clear, propagation;
        uint64_t attr_set, attr_clr;
        bool bind, recursive, tmpcopyup, idmap;
        const char *data;
} mopts[] = {
        { "'ro','nosuid','nodev','noexec'", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0, 0,
          0, false, false, false, false, NULL },
        { "'rw','suid','dev','exec'", 0, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0, 0,
          false, false, false, false, NULL },
        { "'ro','rw'", 0, MS_RDONLY, 0, 0, 0, false, false, false, false, NULL },
        { "'rw','ro'", MS_RDONLY, 0, 0, 0, 0, false, false, false, false, NULL },
        { "'bind','rprivate'", MS_BIND, 0, MS_PRIVATE | MS_REC, 0, 0, true, false, false, false,
          NULL },
        { "'rbind','shared'", MS_BIND | MS_REC, 0, MS_SHARED, 0, 0, true, true, false, false,
          NULL },
        { "'rslave','unbindable'", 0, 0, MS_UNBINDABLE, 0, 0, false, false, false, false, NULL },
        { "'mode=755','size=65536k','nosuid'", MS_NOSUID, 0, 0, 0, 0, false, false, false, false,
          "mode=755,size=65536k" },
        { "'rro','rnosuid','rw'", 0, MS_RDONLY, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, false,
          false, false, false, NULL },
        { "'rro','rrw'", 0, 0, 0, 0, MOUNT_ATTR_RDONLY, false, false, false, false, NULL },
        { "'rnoatime'", 0, 0, 0, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, false, false, false, false,
          NULL },
        { "'rnoatime','rrelatime'", 0, 0, 0, 0, MOUNT_ATTR__ATIME, false, false, false, false,
          NULL },
        { "'tmpcopyup','mode=1777'", 0, 0, 0, 0, 0, false, false, true, false, "mode=1777" },
        { "'bind','idmap'", MS_BIND, 0, 0, 0, 0, true, false, false, true, NULL },
        { "'relatime','strictatime','nosymfollow','defaults'",
          MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW, 0, 0, 0, 0, false, false, false, false,
          NULL },
        { "'noatime','atime','remount','sync','async'", MS_REMOUNT, MS_NOATIME | MS_SYNCHRONOUS, 0,
          0, 0, false, false, false, false, NULL },
        { "'newinstance','ptmxmode=0666','gid=5','lowerdir=/a:/b'", 0, 0, 0, 0, 0, false, false,
          false, false, "newinstance,ptmxmode=0666,gid=5,lowerdir=/a:/b" },
};

static void test_mount_options(void **state)
{
        for (size_t i = 0; i < sizeof(mopts) / sizeof(mopts[0]); i++) {
                char buf[512];
                _cleanup_free_ char *text = NULL;
                gk_spec *s;
                const gk_mount *m;

                snprintf(buf, sizeof(buf), BASE("'mounts':[{'destination':'/m','options':[%s]}]"),
                         mopts[i].options);
                text = dq(buf);
                s = parse_ok(text);
                m = &s->mounts[0];
                if (m->flags != mopts[i].flags || m->clear_flags != mopts[i].clear ||
                    m->propagation != mopts[i].propagation || m->attr_set != mopts[i].attr_set ||
                    m->attr_clr != mopts[i].attr_clr || m->bind != mopts[i].bind ||
                    m->recursive != mopts[i].recursive || m->tmpcopyup != mopts[i].tmpcopyup ||
                    m->idmap != mopts[i].idmap)
                        fail_msg(
                                "case %zu (%s): flags %#lx clear %#lx prop %#lx set %#llx clr %#llx "
                                "bind %d rec %d",
                                i, mopts[i].options, m->flags, m->clear_flags, m->propagation,
                                (unsigned long long) m->attr_set, (unsigned long long) m->attr_clr,
                                m->bind, m->recursive);
                if (mopts[i].data)
                        assert_string_equal(m->data, mopts[i].data);
                else
                        assert_null(m->data);
                gk_spec_free(s);
        }
}

static void test_rlimit_big_values(void **state)
{
        _cleanup_free_ char *text = dq(
                PROC("'rlimits':[{'type':'RLIMIT_MEMLOCK',"
                     "'soft':9223372036854775808,'hard':18446744073709551615}]"));
        gk_spec *s = parse_ok(text), *back;
        char *out;

        assert_true(s->process->rlimits[0].soft == (uint64_t) INT64_MAX + 1);
        assert_true(s->process->rlimits[0].hard == UINT64_MAX);
        assert_int_equal(s->process->rlimits[0].resource, RLIMIT_MEMLOCK);
        out = emit_ok(s);
        assert_non_null(strstr(out, "9223372036854775808"));
        back = parse_ok(out);
        assert_true(back->process->rlimits[0].hard == UINT64_MAX);
        assert_true(back->process->rlimits[0].soft == (uint64_t) INT64_MAX + 1);
        gk_spec_free(s);
        gk_spec_free(back);
        free(out);
}

static void test_process_parse(void **state)
{
        _cleanup_free_ char *ok = dq("{'args':['ls','-l'],'cwd':'/tmp','env':['A=1'],"
                                     "'capabilities':{'bounding':['CAP_SYS_ADMIN']}}");
        _cleanup_free_ char *bad1 = dq("{'cwd':'/'}");
        _cleanup_free_ char *bad2 = dq("{'args':['x'],'cwd':'/','rlimits':[{'type':'X'}]}");
        gk_process *p = NULL;
        gk_error *err = NULL;

        assert_int_equal(gk_process_parse(ok, strlen(ok), "process.json", &p, &err), 0);
        assert_string_equal(p->args[1], "-l");
        assert_string_equal(p->cwd, "/tmp");
        assert_int_equal(p->capabilities.bounding.caps[0], 21);
        gk_process_freep(&p);
        assert_null(p);
        assert_true(gk_process_parse(bad1, strlen(bad1), "process.json", &p, &err) < 0);
        assert_string_equal(err->msg, "process.json: args: must be a non-empty array");
        gk_error_freep(&err);
        assert_true(gk_process_parse(bad2, strlen(bad2), "/tmp/p.json", &p, &err) < 0);
        assert_string_equal(err->msg, "/tmp/p.json: rlimits[0].type: unknown rlimit \"X\"");
        gk_error_freep(&err);
        assert_true(gk_process_parse("[]", 2, "process.json", &p, &err) < 0);
        assert_string_equal(err->msg, "process.json: must be an object");
        gk_error_freep(&err);
        assert_null(p);
}

static void test_resources_parse(void **state)
{
        _cleanup_free_ char *ok = dq("{'memory':{'limit':1048576},'pids':{'limit':10},"
                                     "'cpu':{'quota':-1,'cpus':'0'}}");
        _cleanup_free_ char *badtext = dq("{'memory':{'limit':1048576},'cpu':{'period':'x'}}");
        gk_resources r;
        gk_error *err = NULL;

        assert_int_equal(gk_resources_parse(ok, strlen(ok), "r.json", &r, &err), 0);
        assert_true(r.present && r.has_memory && r.has_pids && r.has_cpu);
        assert_int_equal(r.memory.limit, 1048576);
        assert_true(r.memory.has_limit);
        assert_false(r.memory.has_swap);
        assert_int_equal(r.pids_limit, 10);
        assert_int_equal(r.cpu.quota, -1);
        assert_string_equal(r.cpu.cpus, "0");
        gk_resources_clear(&r);
        assert_true(gk_resources_parse(badtext, strlen(badtext), "r.json", &r, &err) < 0);
        assert_string_equal(err->msg, "r.json: cpu.period: must be a non-negative integer");
        gk_error_freep(&err);
}

static void test_spec_load(void **state)
{
        char dir[] = "/tmp/gkspecXXXXXX", path[64];
        _cleanup_free_ char *text = dq(PROC("'env':['X=1']"));
        gk_spec *s = NULL;
        gk_error *err = NULL;

        assert_non_null(mkdtemp(dir));
        assert_true(gk_spec_load(dir, &s, &err) < 0);
        assert_non_null(strstr(err->msg, "No such file or directory"));
        gk_error_freep(&err);
        snprintf(path, sizeof(path), "%s/config.json", dir);
        assert_int_equal(gk_write_file_atomic(path, text, strlen(text), 0644, false, &err), 0);
        assert_int_equal(gk_spec_load(dir, &s, &err), 0);
        assert_string_equal(s->process->env[0], "X=1");
        gk_spec_freep(&s);
        unlink(path);
        rmdir(dir);
}

static void test_names(void **state)
{
        assert_int_equal(gk_cap_from_name("CAP_CHOWN"), 0);
        assert_int_equal(gk_cap_from_name("CAP_SYS_ADMIN"), 21);
        assert_int_equal(gk_cap_from_name("CAP_AUDIT_READ"), 37);
        assert_int_equal(gk_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(gk_cap_from_name("CAP_FOO"), -1);
        assert_int_equal(gk_cap_from_name("SYS_ADMIN"), -1);
        assert_int_equal(gk_cap_last(), 40);
        for (int c = 0; c <= gk_cap_last(); c++)
                assert_int_equal(gk_cap_from_name(gk_cap_name(c)), c);
        assert_null(gk_cap_name(41));
        assert_null(gk_cap_name(-1));
        assert_int_equal(gk_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
        assert_int_equal(gk_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
        assert_int_equal(gk_rlimit_from_name("NOFILE"), -1);
        assert_int_equal(gk_ns_type_from_name("network"), GK_NS_NETWORK);
        assert_int_equal(gk_ns_type_from_name("net"), -1);
        assert_string_equal(gk_ns_proc_name(GK_NS_NETWORK), "net");
        assert_string_equal(gk_ns_proc_name(GK_NS_MOUNT), "mnt");
        assert_string_equal(gk_ns_type_name(GK_NS_CGROUP), "cgroup");
        assert_int_equal(gk_ns_clone_flag(GK_NS_USER), CLONE_NEWUSER);
        assert_int_equal(gk_ns_clone_flag(GK_NS_TIME), 0x80);
        assert_null(gk_ns_type_name(GK_NS_COUNT));
}

/* process.scheduler, process.execCPUAffinity, linux.memoryPolicy and
 * personality flags (lib/spec_parse_procattr.c): refusals name the field. */
static const struct {
        const char *json;
        const char *msg;
} bad_procattr[] = {
        { PROC("'scheduler':{'nice':1}"), P "process.scheduler.policy: required" },
        { PROC("'scheduler':{'policy':'X'}"), P "process.scheduler.policy: unknown policy \"X\"" },
        { PROC("'scheduler':{'policy':'SCHED_OTHER','nice':20}"),
          P "process.scheduler.nice: must be between -20 and 19" },
        { PROC("'scheduler':{'policy':'SCHED_OTHER','priority':5}"),
          P "process.scheduler.priority: only valid with SCHED_FIFO or SCHED_RR" },
        { PROC("'scheduler':{'policy':'SCHED_RR'}"),
          P "process.scheduler.priority: must be between 1 and 99 with SCHED_RR" },
        { PROC("'scheduler':{'policy':'SCHED_FIFO','priority':100}"),
          P "process.scheduler.priority: must be between 1 and 99 with SCHED_FIFO" },
        { PROC("'scheduler':{'policy':'SCHED_BATCH','deadline':1000}"),
          P "process.scheduler.deadline: only valid with SCHED_DEADLINE" },
        { PROC("'scheduler':{'policy':'SCHED_IDLE','flags':['SCHED_FLAG_RECLAIM','SCHED_FLAG_X']}"),
          P "process.scheduler.flags[1]: unknown flag \"SCHED_FLAG_X\"" },
        { PROC("'scheduler':{'policy':'SCHED_OTHER','runtime':-1}"),
          P "process.scheduler.runtime: must be a non-negative integer" },
        { PROC("'execCPUAffinity':{'initial':'0-'}"),
          P "process.execCPUAffinity.initial: invalid CPU list \"0-\" (want a list like "
            "\"0-3,7\")" },
        { PROC("'execCPUAffinity':{'final':'3-1'}"),
          P "process.execCPUAffinity.final: invalid CPU list \"3-1\" (want a list like "
            "\"0-3,7\")" },
        { PROC("'execCPUAffinity':{'final':'1,8192'}"),
          P "process.execCPUAffinity.final: CPU list \"1,8192\": numbers go up to 8191" },
        { PROC("'execCPUAffinity':{'initial':1}"),
          P "process.execCPUAffinity.initial: must be a string" },
        { LNX("'memoryPolicy':{'nodes':'0'}"), P "linux.memoryPolicy.mode: required" },
        { LNX("'memoryPolicy':{'mode':'MPOL_FOO','nodes':'0'}"),
          P "linux.memoryPolicy.mode: unknown mode \"MPOL_FOO\"" },
        { LNX("'memoryPolicy':{'mode':'MPOL_BIND'}"),
          P "linux.memoryPolicy.nodes: required with MPOL_BIND" },
        { LNX("'memoryPolicy':{'mode':'MPOL_PREFERRED','nodes':' '}"),
          P "linux.memoryPolicy.nodes: required with MPOL_PREFERRED" },
        { LNX("'memoryPolicy':{'mode':'MPOL_LOCAL','nodes':'0'}"),
          P "linux.memoryPolicy.nodes: must be empty with MPOL_LOCAL" },
        { LNX("'memoryPolicy':{'mode':'MPOL_INTERLEAVE','nodes':'0,,1'}"),
          P "linux.memoryPolicy.nodes: invalid node list \"0,,1\" (want a list like "
            "\"0-3,7\")" },
        { LNX("'memoryPolicy':{'mode':'MPOL_BIND','nodes':'1024'}"),
          P "linux.memoryPolicy.nodes: node list \"1024\": numbers go up to 1023" },
        { LNX("'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0','flags':['MPOL_F_STATIC']}"),
          P "linux.memoryPolicy.flags[0]: unknown flag \"MPOL_F_STATIC\"" },
        { LNX("'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0','flags':"
              "['MPOL_F_STATIC_NODES','MPOL_F_RELATIVE_NODES']}"),
          P "linux.memoryPolicy.flags: MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude "
            "each other" },
        { LNX("'personality':{'domain':'LINUX','flags':['ADDR_NO_RANDOMIZE','PER_BSD']}"),
          P "linux.personality.flags[1]: unknown flag \"PER_BSD\"" },
        { LNX("'personality':{'domain':'LINUX','flags':'ADDR_NO_RANDOMIZE'}"),
          P "linux.personality.flags: must be an array of strings" },
};

static void test_bad_process_attrs(void **state)
{
        for (size_t i = 0; i < sizeof(bad_procattr) / sizeof(bad_procattr[0]); i++) {
                _cleanup_free_ char *text = dq(bad_procattr[i].json);
                gk_spec *s = NULL;
                gk_error *err = NULL;

                if (gk_spec_parse(text, strlen(text), "config.json", &s, &err) >= 0)
                        fail_msg("case %zu accepted: %s", i, text);
                if (strcmp(err->msg, bad_procattr[i].msg) != 0)
                        fail_msg("case %zu: %s\n  got:  %s\n  want: %s", i, text, err->msg,
                                 bad_procattr[i].msg);
                gk_error_free(err);
        }
}

/* What is read, how it is written back, and the version that covers it. */
static void test_process_attrs(void **state)
{
        _cleanup_free_ char *t1 = dq(
                PROC("'scheduler':{'policy':'SCHED_DEADLINE','flags':['SCHED_FLAG_DL_OVERRUN',"
                     "'SCHED_FLAG_RESET_ON_FORK'],'runtime':10000000,'deadline':20000000,"
                     "'period':30000000},'execCPUAffinity':{'initial':'0','final':'0-3,7'}"));
        _cleanup_free_ char *t2 = dq(
                LNX("'memoryPolicy':{'mode':'MPOL_INTERLEAVE','nodes':'2-3','flags':"
                    "['MPOL_F_STATIC_NODES']},'personality':{'domain':'LINUX32','flags':"
                    "['READ_IMPLIES_EXEC','ADDR_NO_RANDOMIZE']}"));
        _cleanup_free_ char *t3 = dq(PROC("'scheduler':{'policy':'SCHED_RR','priority':99,"
                                          "'nice':-20}"));
        _cleanup_free_ char *t4 = dq(LNX("'memoryPolicy':{'mode':'MPOL_LOCAL','nodes':''}"));
        gk_spec *s = parse_ok(t1), *s2;
        const gk_scheduler *sc = &s->process->scheduler;
        char *out, *out2;
        int v;

        assert_true(sc->present);
        assert_int_equal(sc->policy, 6);
        assert_int_equal(sc->flags, 0x05);
        assert_int_equal(sc->runtime, 10000000);
        assert_int_equal(sc->period, 30000000);
        assert_string_equal(s->process->exec_cpu_affinity.final, "0-3,7");
        assert_string_equal(gk_spec_min_version(s), "1.2.1");
        out = emit_ok(s);
        assert_non_null(strstr(out, "\"SCHED_FLAG_RESET_ON_FORK\""));
        assert_non_null(strstr(out, "\"initial\": \"0\""));
        s2 = parse_ok(out);
        out2 = emit_ok(s2);
        assert_string_equal(out, out2);
        gk_spec_free(s);
        gk_spec_free(s2);
        free(out);
        free(out2);

        s = parse_ok(t2);
        assert_true(s->linux.memory_policy.present);
        assert_int_equal(s->linux.memory_policy.mode, 3);
        assert_int_equal(s->linux.memory_policy.flags, 1 << 15);
        assert_int_equal(s->linux.personality.flags, 0x0440000);
        assert_string_equal(gk_spec_min_version(s), "1.3.0");
        out = emit_ok(s);
        assert_non_null(strstr(out, "\"nodes\": \"2-3\""));
        s2 = parse_ok(out);
        out2 = emit_ok(s2);
        assert_string_equal(out, out2);
        gk_spec_free(s);
        gk_spec_free(s2);
        free(out);
        free(out2);

        s = parse_ok(t3);
        assert_int_equal(s->process->scheduler.priority, 99);
        assert_int_equal(s->process->scheduler.nice, -20);
        assert_string_equal(gk_spec_min_version(s), "1.1.0");
        gk_spec_free(s);
        s = parse_ok(t4);
        assert_int_equal(s->linux.memory_policy.mode, 4);
        gk_spec_free(s);
        assert_string_equal(gk_mpol_mode_name(0, NULL), "MPOL_DEFAULT");
        assert_string_equal(gk_mpol_mode_name(6, &v), "MPOL_LOCAL");
        assert_int_equal(v, 4);
        assert_null(gk_mpol_mode_name(7, &v));
        assert_string_equal(gk_mpol_flag_name(2, &v), "MPOL_F_STATIC_NODES");
        assert_int_equal(v, 1 << 15);
        assert_null(gk_mpol_flag_name(3, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_round_trip),
                cmocka_unit_test(test_bad_inputs),
                cmocka_unit_test(test_invalid_json),
                cmocka_unit_test(test_good_inputs),
                cmocka_unit_test(test_relative_mount_destination),
                cmocka_unit_test(test_null_process),
                cmocka_unit_test(test_default_spec),
                cmocka_unit_test(test_default_rootless),
                cmocka_unit_test(test_mount_options),
                cmocka_unit_test(test_rlimit_big_values),
                cmocka_unit_test(test_process_parse),
                cmocka_unit_test(test_resources_parse),
                cmocka_unit_test(test_spec_load),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_device_file_mode_type_bits),
                cmocka_unit_test(test_bad_process_attrs),
                cmocka_unit_test(test_process_attrs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
