"""The Makefile's set-up: ``make serve`` and ``make test`` both install the system packages and the
virtual environment, as the README says, and the system-package step does nothing once all is there."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_STEP = "bash scripts/install_system_deps.sh"


@pytest.mark.parametrize("target", ["serve", "test"])
def test_both_commands_of_the_quick_start_install_the_system_packages_first(target: str) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n prints what would run, @-silenced lines included; -B as if nothing were made yet.
    planned = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True)
    lines = planned.stdout.splitlines()
    assert SYSTEM_STEP in lines
    final = next(i for i, line in enumerate(lines) if ("ocr-lstm serve" if target == "serve" else "pytest") in line)
    assert lines.index(SYSTEM_STEP) < final
    assert any("pip install" in line for line in lines[:final])  # the virtual environment, too


def fake_tools(folder: Path, installed: set[str]) -> Path:
    """``dpkg-query`` that knows ``installed``, and an ``apt-get`` that records its arguments."""
    folder.mkdir()
    record = folder / "apt-get.log"
    (folder / "dpkg-query").write_text(
        "#!/bin/sh\nfor p; do :; done\ncase \" " + " ".join(sorted(installed)) + " \" in\n"
        "  *\" $p \"*) printf 'install ok installed' ;;\n  *) exit 1 ;;\nesac\n"
    )
    (folder / "apt-get").write_text(f"#!/bin/sh\necho \"$@\" >> {record}\n")
    for tool in ("dpkg-query", "apt-get"):
        (folder / tool).chmod(0o755)
    return record


def packages() -> list[str]:
    script = (ROOT / "scripts/install_system_deps.sh").read_text()
    listed = script.split("packages=(", 1)[1].split("${EXTRA", 1)[0]
    return listed.split()


def run_step(tools: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "EXTRA_SYSTEM_PACKAGES": ""}
    return subprocess.run(["bash", "scripts/install_system_deps.sh"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_system_step_installs_nothing_and_is_quick_when_all_is_there(tmp_path: Path) -> None:
    record = fake_tools(tmp_path / "bin", set(packages()))
    start = time.perf_counter()
    done = run_step(tmp_path / "bin")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert time.perf_counter() - start < 5
    assert not record.exists()


def test_the_system_step_installs_only_what_is_missing(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the step only warns without root")
    missing = {"fonts-roboto", "mate-backgrounds"}
    record = fake_tools(tmp_path / "bin", set(packages()) - missing)
    done = run_step(tmp_path / "bin")
    assert done.returncode == 0
    install = [line.split() for line in record.read_text().splitlines() if line.startswith("install")]
    assert len(install) == 1 and set(install[0]) - {"install", "-y", "-qq", "--no-install-recommends"} == missing
