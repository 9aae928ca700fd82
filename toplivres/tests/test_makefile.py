"""The Makefile and CI script do what the README says (read with `make -n`, nothing runs)."""

import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args) -> str:
    result = subprocess.run(
        ["make", "-n", *args], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_skipping_the_browser_tests_needs_neither_chromium_nor_npm():
    commands = dry_run("test", 'PYTEST_ARGS=-m "not browser"')
    assert "chromium" not in commands
    assert "npm" not in commands
    assert "pytest" in commands


def test_the_browser_tests_install_chromium_and_axe_core():
    commands = dry_run("test", "PYTEST_ARGS=-m browser")
    assert "chromium" in commands
    axe = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    assert "axe-core" in commands or axe.exists()  # installed once, then up to date


def test_apt_waits_for_another_apt():
    assert "DPkg::Lock::Timeout" in dry_run("browser")
    assert "DPkg::Lock::Timeout" in (BASE_DIR / ".ci" / "run").read_text()


def test_clean_keeps_the_developers_database():
    commands = dry_run("clean")
    removed = commands.split()
    assert "var" not in removed and "var/" not in removed
    assert "var/toplivres.sqlite3" not in commands


def test_ci_checks_migrations_messages_and_static_files_then_runs_make_test():
    script = (BASE_DIR / ".ci" / "run").read_text()
    assert "make check" in script and "make test" in script
    commands = dry_run("check")
    assert "makemigrations --check" in commands
    assert "makemessages" in commands
    assert "collectstatic" in commands
