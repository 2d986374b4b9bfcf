"""The dependency arrows of docs/architecture.md, checked on the #include lines:
common <- dataplane <- ports <- control <- daemon, and vswctl (cli/) sees only control/protocol
and common/."""
import pathlib
import re

from tests.support import paths

INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]', re.M)

# folder -> include prefixes it must never use
FORBIDDEN = {
    "common": ["dataplane/", "ports/", "control/", "daemon/", "cli/", "nlohmann/", "boost/"],
    "dataplane": ["ports/", "control/", "daemon/", "cli/", "nlohmann/", "boost/"],
    "ports": ["control/", "daemon/", "cli/", "nlohmann/"],
    "control/protocol": ["dataplane/", "ports/", "daemon/", "cli/"],
    "control": ["daemon/", "cli/"],
    "cli": ["dataplane/", "ports/", "daemon/", "control/dispatcher", "control/rpc_server",
            "control/control_plane", "control/methods/"],
}


def sources(folder):
    root = paths.REPO / folder
    return [p for p in root.rglob("*") if p.suffix in (".h", ".cc")]


def test_include_arrows_point_one_way():
    violations = []
    for folder, banned in FORBIDDEN.items():
        for src in sources(folder):
            if folder == "control" and "protocol" in src.parts:
                continue  # checked under its own, stricter rule
            for inc in INCLUDE.findall(src.read_text(errors="replace")):
                if any(inc.startswith(b) for b in banned):
                    violations.append(f"{src.relative_to(paths.REPO)} includes {inc}")
    assert not violations, "\n".join(violations)


def test_checked_folders_exist_and_have_sources():
    for folder in FORBIDDEN:
        assert sources(folder), f"{folder}/ has no sources: the layering check would be vacuous"
