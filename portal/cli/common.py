"""What the commands share: their logger and how they stop with a message."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import click

log = logging.getLogger("portal.cli")


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
