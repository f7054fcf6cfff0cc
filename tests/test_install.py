"""`pip install .` in a fresh virtual environment gives the `tfsenti` command, `python -m tfsenti` and the configs.

The fresh environment borrows the project's installed dependencies (a .pth file pointing at this interpreter's
site-packages) so that the test needs no network; tfsenti itself is built and installed from the checkout.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pip_install_gives_a_working_command(tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    borrowed = [path for path in site.getsitepackages() + [sysconfig.get_paths()["purelib"]] if Path(path).is_dir()]
    (purelib / "borrowed_dependencies.pth").write_text("\n".join(dict.fromkeys(borrowed)) + "\n")
    clean = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              str(REPO)], capture_output=True, text=True, timeout=600, env=clean, cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-3000:]

    def run(*command):
        completed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=clean, cwd=tmp_path)
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    from tfsenti import __version__

    assert run(str(env_dir / "bin" / "tfsenti"), "--version").strip() == f"tfsenti, version {__version__}"
    assert "train" in run(str(env_dir / "bin" / "tfsenti"), "--help")
    assert "--text-column" in run(str(python), "-m", "tfsenti", "train", "--help")
    where = run(str(python), "-c", "import tfsenti, tfsenti.config as c; print(tfsenti.__file__); "
                "print((c.CONFIGS_DIR / 'nsmc' / 'nbbon.yaml').is_file(), (c.CONFIGS_DIR / 'text-ko').is_dir())")
    location, configs = where.strip().splitlines()
    assert Path(location).is_relative_to(env_dir), f"tfsenti was imported from {location}, not the new environment"
    assert configs == "True True"
