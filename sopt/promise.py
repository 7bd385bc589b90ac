"""Order promising (R11): `sopt promise` against a committed plan."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:  # noqa: ARG001 - argparse's subparsers action
    """Add this module's commands to the `sopt` parser (each sets `run` via set_defaults)."""
    _ = argparse
