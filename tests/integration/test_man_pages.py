"""The man pages say what the programs do: every option of `vswitchd --help`, every command of
`vswctl --help` and every option of each `vswctl COMMAND --help` is documented in
docs/man/*.8, nothing documented there is missing from the programs, and groff renders both
pages without a warning."""
import re
import subprocess

import pytest

from tests.support import paths

MAN = paths.REPO / "docs" / "man"
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def render(page):
    """The page as plain text, on lines wide enough that no option is broken."""
    res = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", "-rLL=400n", "-rHY=0",
                          str(MAN / page)], capture_output=True, text=True, check=True)
    return res.stdout


def section(text, title):
    """The body of man section `title` (up to the next unindented heading)."""
    m = re.search(rf"^{title}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.M | re.S)
    assert m, f"no {title} section"
    return m.group(1)


def help_text(*args):
    return subprocess.run([*args, "--help"], capture_output=True, text=True, check=True).stdout


def help_options(text):
    """Long options from a CLI11 --help listing (its option lines are indented)."""
    return {o for line in text.splitlines() if line.startswith("  ")
            for o in OPTION.findall(line.split("  ", 2)[1] if line.startswith("  -") else line[:30])}


def vswctl_commands():
    text = help_text(str(paths.VSWCTL))
    body = text.split("Subcommands:", 1)[1]
    return [line.split()[0] for line in body.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("page", ["vswitchd.8", "vswctl.8"])
def test_groff_renders_without_warnings(page):
    res = subprocess.run(["groff", "-man", "-ww", "-z", str(MAN / page)],
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stderr == "", res.stderr


def test_vswitchd_page_matches_its_help():
    documented = set(OPTION.findall(section(render("vswitchd.8"), "OPTIONS")))
    actual = help_options(help_text(str(paths.VSWITCHD)))
    assert actual, "no options parsed from --help"
    assert actual - documented == set(), "options missing from vswitchd.8"
    assert documented - actual == set(), "vswitchd.8 documents options vswitchd lacks"


def test_vswctl_page_matches_its_help():
    page = render("vswctl.8")
    global_doc = set(OPTION.findall(section(page, "OPTIONS")))
    global_actual = help_options(help_text(str(paths.VSWCTL)).split("Subcommands:", 1)[0])
    assert global_actual - global_doc == set(), "global options missing from vswctl.8"
    assert global_doc - global_actual == set(), "vswctl.8 documents options vswctl lacks"

    commands_text = section(page, "COMMANDS")
    # Each entry of COMMANDS starts at the left margin of the section (7 spaces in -Tascii).
    entries = {}
    for block in re.split(r"\n(?=       \S)", "\n" + commands_text):
        block = block.strip("\n")
        if block.strip():
            entries[block.split()[0]] = block
    commands = vswctl_commands()
    assert len(commands) > 10
    assert set(commands) - set(entries) == set(), "commands missing from vswctl.8"
    assert set(entries) - set(commands) == set(), "vswctl.8 documents commands vswctl lacks"
    for cmd in commands:
        actual = help_options(help_text(str(paths.VSWCTL), cmd)) - {"--help"}
        documented = set(OPTION.findall(entries[cmd]))
        assert actual == documented, f"vswctl {cmd}: --help has {actual}, vswctl.8 {documented}"
