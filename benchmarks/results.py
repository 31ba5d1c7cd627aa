"""What a benchmark hands back: rows of the closing table, rendered as Markdown.

Every row carries its figure, the target from the issue, the baseline measured in the same
run and the ratio figure ÷ baseline, so the table can be pasted as is into a closing note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Row", "markdown_table"]


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    target: str
    met: bool | None
    baseline: str
    ratio: str

    def cells(self) -> list[str]:
        verdict = {True: " ✓", False: " ✗", None: ""}[self.met]
        return [self.benchmark, self.figure, self.target + verdict, self.baseline, self.ratio]


def markdown_table(rows: Sequence[Row]) -> str:
    header = ["benchmark", "figure", "target", "baseline (same run)", "ratio"]
    table = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([render(header), rule, *(render(line) for line in table[1:])])
