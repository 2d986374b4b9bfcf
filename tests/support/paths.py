"""Where the built binaries are: $VSW_BUILD_DIR, else <repo>/build."""
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("VSW_BUILD_DIR", REPO / "build"))
VSWITCHD = BUILD / "daemon" / "vswitchd"
VSWCTL = BUILD / "cli" / "vswctl"
VSWITCHD_MODEL = BUILD / "tests" / "models" / "vswitchd-model"
CONFIGS = REPO / "configs"
