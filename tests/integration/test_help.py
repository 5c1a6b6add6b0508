"""Every gkrun command answers --help and -h (exit 0, on stdout) with its
usage line and every flag it accepts, each with what it does, as runc does.
The help is generated from the table the command's parser reads, so the
test checks both ways: each flag the help lists is accepted, and each flag
declared in runtime/cmd/*.c is listed by some command's help."""
import glob
import os
import re
import subprocess

import pytest

from conftest import GKRUN

HERE = os.path.dirname(os.path.abspath(__file__))
FLAG = re.compile(r"^  (?:-(\w), )?\s*--([\w-]+)(?: (\S+))?(?:\s{2,}(\S.*))?$")


def gkrun(*args, cwd=None):
    return subprocess.run([GKRUN, *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def commands():
    out = gkrun("--help").stdout
    return [line.split()[0] for line in out.split("commands:\n", 1)[1].splitlines()
            if line.strip()]


def flags_of(text):
    out = []
    for line in text.split("options:\n", 1)[1].splitlines():
        m = FLAG.match(line)
        assert m, "not a flag line: %r" % line
        out.append(m.groups())
    return out


def test_commands_are_listed():
    assert {"create", "run", "exec", "update", "features", "events"} <= set(commands())


@pytest.mark.parametrize("cmd", commands())
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_command_help(cmd, flag, tmp_path):
    p = gkrun("--root", str(tmp_path / "state"), cmd, flag)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.startswith("usage: gkrun %s [OPTIONS]" % cmd), p.stdout
    flags = flags_of(p.stdout)
    assert ("h", "help", None, "show this help") in flags
    for short, name, arg, desc in flags:
        assert desc, "--%s has no description" % name
        if name == "help":
            continue
        # each listed flag is one the command's parser knows
        for spelling in ["--" + name] + (["-" + short] if short else []):
            args = [spelling] + ([("1" if arg == "N" else "x")] if arg else [])
            q = gkrun("--root", str(tmp_path / "state"), cmd, *args, cwd=str(tmp_path))
            assert "flag provided but not defined" not in q.stderr, (spelling, q.stderr)
            assert "flag needs an argument" not in q.stderr, (spelling, q.stderr)


def declared_flags():
    """The long names in the gk_opt tables of runtime/cmd/ (and update's
    generated ones), the parser's source of truth."""
    names = set()
    for path in glob.glob(os.path.join(HERE, "..", "..", "runtime", "cmd", "cmd_*.c")):
        with open(path) as f:
            text = f.read()
        names |= set(re.findall(r'\{\s*(?:\w+ \? )?"([a-z][\w-]*)"(?: : "-")?,\s*(?:\'\w\'|0|'
                                r'\w+ \? \'\w\' : 0),\s*GK_OPT_', text))
        m = re.search(r"flag_names\[F_COUNT\] = \{(.*?)\};", text, re.S)
        if m:
            names |= set(re.findall(r'= "([\w-]+)"', m.group(1)))
    return names


def test_every_declared_flag_is_in_some_help(tmp_path):
    listed = set()
    for cmd in commands():
        p = gkrun("--root", str(tmp_path / "state"), cmd, "--help")
        listed |= {name for _, name, _, _ in flags_of(p.stdout)}
    declared = declared_flags()
    assert {"bundle", "detach", "keep", "pids-limit", "console-socket"} <= declared
    assert declared - listed == set()


def test_unknown_flag_still_fails(tmp_path):
    p = gkrun("--root", str(tmp_path / "state"), "create", "--nosuch", "x")
    assert p.returncode != 0
    assert "flag provided but not defined: -nosuch" in p.stderr
