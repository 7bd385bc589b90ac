"""Errors that reach the person running sopt as one line per problem (exit code 2)."""

from __future__ import annotations


class InputError(Exception):
    """Invalid input: a list of problems, each `FILE: path.to.field: message`."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class FolderLocked(Exception):
    """The output folder is being written by another run (exit code 3)."""
