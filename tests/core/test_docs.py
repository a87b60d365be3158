"""The README and the code agree."""

import re
from pathlib import Path

from portal import demo, imports
from portal.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_quickstart_is_two_commands_and_ci_runs_the_test_one():
    blocks = re.findall(r"## 快速开始.*?(?=\n## )", README, re.S)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", blocks)
    assert len(commands) == 2
    assert "portal demo" in commands[0] and "portal serve" in commands[0]
    assert "pytest" in commands[1]
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "test-command" in ci


def test_cli_commands_and_import_kinds_are_documented():
    for name in cli.commands:
        assert f"portal [--db PATH] {name}" in README, name
    for kind in imports.IMPORTERS:
        assert kind in README


def test_demo_password_is_documented():
    assert f"`{demo.DEMO_PASSWORD}`" in README


def test_every_page_is_described_in_the_readme():
    from portal import navigation

    table = README.split("## 功能一览")[1].split("\n## ")[0]
    for page in navigation.PAGES:
        if page.path != "pages/home.py":
            assert f"| {page.title} |" in table, page.title


def test_every_benchmark_is_listed():
    bench = Path(__file__).resolve().parents[2] / "bench"
    for script in bench.glob("*_bench.py"):
        assert script.name in README, script.name


def test_every_core_module_is_in_the_layout():
    layout = README.split("## 项目结构")[1]
    portal = Path(__file__).resolve().parents[2] / "portal"
    for module in portal.glob("*.py"):
        if module.name in ("__init__.py", "__main__.py"):
            continue
        assert f"`{module.name}`" in layout, module.name


def test_the_readme_shows_three_small_pictures_of_the_portal():
    """Booking on a phone, 我的工作台 and 意见建议办理, made by tests/browser/readme_shots.py: each
    picture the README shows exists, is a PNG and stays small enough for a repository."""
    root = Path(__file__).resolve().parents[2]
    shown = re.findall(r"!\[([^\]]+)\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"", README)
    paths = [m[1] or m[2] for m in shown]
    for name in ("docs/img/booking-phone.png", "docs/img/dashboard.png", "docs/img/case-desk.png"):
        assert name in paths, f"README.md does not show {name}"
    for path in paths:
        picture = root / path
        assert picture.is_file(), path
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert picture.stat().st_size <= 200 * 1024, f"{path}: {picture.stat().st_size // 1024} KB"
