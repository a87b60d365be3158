"""``portal token …``: the API tokens of other campus systems (docs/api.md)."""

from __future__ import annotations

import click

from .. import api_tokens
from ..db import open_db
from ..errors import PortalError
from .common import fail


@click.group("token")
def token_group() -> None:
    """API tokens for other campus systems (docs/api.md): issue, list, revoke."""


@token_group.command("issue")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(sorted(api_tokens.SCOPES)),
    help="权限范围（可多次给出）",
)
@click.option("--days", default=180, show_default=True, help=f"有效期（天，至多 {api_tokens.MAX_DAYS}）")
def token_issue(name: str, scopes: tuple[str, ...], days: int) -> None:
    """Issue a token; it is printed once, on stdout (only its hash is kept)."""
    try:
        with open_db() as db:
            record, token = api_tokens.issue(db, name, list(scopes), days, None)
    except PortalError as exc:
        fail(exc.message)
    click.echo(
        f"已签发令牌 #{record.id}（{record.name}，{'、'.join(record.scopes)}，有效至 {record.expires_at}）",
        err=True,
    )
    click.echo(token)


@token_group.command("list")
def token_list() -> None:
    """Every token: id, name, scopes, state, expiry, last use (never the token itself)."""
    with open_db() as db:
        found = api_tokens.list_tokens(db)
    for t in found:
        click.echo(
            f"{t.id}\t{t.name}\t{','.join(t.scopes)}\t{t.state_label}\t{t.expires_at}\t{t.last_used_at or '未使用'}"
        )
    click.echo(f"共 {len(found)} 个令牌", err=True)


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id: it stops working at once."""
    try:
        with open_db() as db:
            api_tokens.revoke(db, token_id, None)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已撤销令牌 #{token_id}")
