"""The instance: its settings (``portal config``), its database (``portal init``), the demo university
(``portal demo``) and the production server (``portal serve``)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from .. import accounts, backups, config, seeds, sessions, sso
from ..db import open_db
from ..errors import PortalError
from .common import fail

DEMO_WARNING = (
    "警告：本数据库中仍有使用公开演示密码 demo1234 的演示账号（包括管理员 admin），任何能访问本平台的人都能登录。"
    "正式使用前请用 portal init 新建数据库，或修改这些账号的密码。\n"
    "WARNING: demo accounts (the administrator admin among them) still have the published demo password "
    "demo1234: anyone who reaches the portal can log in. Start from a new database (portal init) or change "
    "their passwords before real use."
)


@click.command("config")
def config_command() -> None:
    """Check the settings and print those in force, and where each came from (secrets hidden)."""
    for variable, value, source in config.describe():
        click.echo(f"{variable}={value}\t# {source}")


@click.command()
def init() -> None:
    """Create the database or migrate it to the current schema."""
    with open_db() as db:
        sessions.secret_key(db)
        added = seeds.seed(db)  # holidays (and years a newer chinesecalendar brings), semesters
    click.echo(f"数据库已就绪：{config.db_path()}")
    if added:
        click.echo(f"已载入 {added[0]}–{added[-1]} 年的法定节假日安排")


@click.command()
@click.option("--seed", default=1, show_default=True, help="随机种子：同一种子生成同样的数据")
@click.option("--scale", default=1, show_default=True, help="规模倍数（--scale 10 用于基准测试）")
@click.option("--force", is_flag=True, help="数据库已有数据时先清空")
def demo(seed: int, scale: int, force: bool) -> None:
    """Fill the database with a believable demo university."""
    from .. import demo as demo_data  # per command: the demo university is for demos and tests only

    path = config.db_path()
    with contextlib.ExitStack() as held:
        try:  # never under a running server: it would go on with the file deleted here
            held.enter_context(backups.restoring("重建演示数据", "rebuild the demo"))
        except PortalError as exc:
            fail(exc.message)
        if path.exists():
            with open_db() as db:
                populated = db.execute("SELECT count(*) FROM units").fetchone()[0] > 0
            if populated and not force:
                click.echo(f"数据库 {path} 已有数据，未作修改（使用 --force 清空后重建）。")
                return
            if populated:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
        with open_db() as db:
            summary = demo_data.build(db, seed=seed, scale=scale)  # its calendar step seeds
    for line in summary:
        click.echo(line)


@click.command()
@click.option("--port", default=8501, show_default=True)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="监听地址：默认只有本机可访问（由 nginx 转发）；0.0.0.0 对所有网络开放",
)
def serve(port: int, address: str) -> None:
    """Start the production server (app, login routes, /_stcore/health)."""
    try:
        sso.require_public_url(sso.cas_settings())
    except sso.PublicUrlMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    with contextlib.ExitStack() as held:
        try:  # held until the server stops: no `portal restore` under it, and none under way now
            held.enter_context(backups.serving())
        except PortalError as exc:
            fail(exc.message)
        with open_db() as db:
            demo_exposed = accounts.demo_passwords_in_use(db)
        if demo_exposed:
            click.echo(DEMO_WARNING, err=True)
        from ..server import serve as run  # per command: Streamlit and uvicorn load only to serve

        run(port=port, address=address)
