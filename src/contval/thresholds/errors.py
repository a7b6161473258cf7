"""The one error a threshold expression can raise while parsing."""

from __future__ import annotations


class ThresholdSyntaxError(ValueError):
    """A malformed threshold. `column` is 1-based in `expression`; str() draws a caret.

    The suite loader adds the expression's own file:line:col, so the message stays short and
    says what was expected rather than what the parser's state was.
    """

    def __init__(self, message: str, expression: str, column: int, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.column = column
        self.length = max(length, 1)

    def __str__(self) -> str:
        caret = " " * (self.column - 1) + "^" * self.length
        return f"{self.message} (column {self.column})\n  {self.expression}\n  {caret}"

    def __reduce__(self) -> tuple[type[ThresholdSyntaxError], tuple[str, str, int, int]]:
        return (type(self), (self.message, self.expression, self.column, self.length))
