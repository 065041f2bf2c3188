"""Errors a user can act on: their message is shown as-is in the page and the CLI."""


class InputError(ValueError):
    """The user's input (file, column, parameter) cannot be used; the message says what to change."""


class IndexMismatchError(InputError):
    """Query vectors do not come from the model or metric the index was built with."""
