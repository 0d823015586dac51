"""Tables the commands print, never cut: whole on a terminal wide enough, else plain lines.

Rich shortens a cell that does not fit (`plann…`, `$0.02…`). A `Listing` is printed as a table
only when every name and amount fits whole (prose columns may wrap between words); on a
narrower terminal, or when the output is not a terminal (a pipe, a file, CI), each row is one
plain line of `header: value` pairs, which the terminal may wrap but nothing shortens, and
which `grep` can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

Cell = str | Text


@dataclass
class Listing:
    """Rows under headers, with an optional title, sections, totals and a caption."""

    headers: list[str]
    title: str = ""
    numeric: set[str] = field(default_factory=set)
    """Headers of right-aligned columns."""
    prose: set[str] = field(default_factory=set)
    """Headers of columns whose text may wrap between words; the others never wrap."""
    rows: list[list[Cell]] = field(default_factory=list)
    sections: set[int] = field(default_factory=set)
    """Indexes of rows that end a group (a rule is drawn under them in the table)."""
    totals: list[tuple[str, Cell]] = field(default_factory=list)
    """`label: value` lines after the rows (the table's last section)."""
    caption: str = ""
    carry: int = 0
    """Leading columns left blank under their group's first row: plain lines repeat them."""

    def add(self, *cells: Cell, end_section: bool = False) -> None:
        """Add a row; `end_section` draws a rule under it."""
        self.rows.append(list(cells))
        if end_section:
            self.sections.add(len(self.rows) - 1)

    def table(self) -> Table:
        """The listing as a rich table: names and amounts never wrap, prose may (`show` prints
        it only when that is enough to fit)."""
        table = Table(title=self.title or None, caption=self.caption or None)
        for header in self.headers:
            justify: JustifyMethod = "right" if header in self.numeric else "left"
            wraps = header in self.prose
            table.add_column(header, justify=justify, no_wrap=not wraps, overflow="fold")
        for index, row in enumerate(self.rows):
            table.add_row(*row, end_section=index in self.sections)
        if self.totals:
            table.add_section()
            blanks = [""] * (len(self.headers) - 2)
            for label, value in self.totals:
                table.add_row(label, *blanks, value)
        return table

    def lines(self) -> list[str]:
        """The listing as plain lines: the title, `header: value` per row, totals, caption."""
        out = [self.title] if self.title else []
        group: list[str] = []
        for row in self.rows:
            cells = [_plain(cell) for cell in row]
            if any(cells[: self.carry]):
                group = cells[: self.carry]
            cells[: self.carry] = group
            pairs = [f"{h}: {c}" for h, c in zip(self.headers, cells, strict=False) if c]
            out.append(" · ".join(pairs))
        out += [f"{label}: {_plain(value)}" for label, value in self.totals]
        if self.caption:
            out.append(self.caption)
        return out


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _width(header: str, cells: list[str], wraps: bool) -> int:
    """Columns a column needs: its longest word if it may wrap, else its longest cell."""
    texts = [header, *cells]
    if wraps:
        return max((cell_len(word) for text in texts for word in text.split()), default=1)
    return max((cell_len(text) for text in texts), default=1)


def needed_width(listing: Listing) -> int:
    """Columns the table needs with every name and amount whole: each column's width, plus
    rich's one space of padding each side and one rule between (and around) columns."""
    columns = list(zip(*[[_plain(cell) for cell in row] for row in listing.rows], strict=False))
    widths = [
        _width(
            header, list(columns[index]) if index < len(columns) else [], header in listing.prose
        )
        for index, header in enumerate(listing.headers)
    ]
    totals = [cell_len(label) for label, _ in listing.totals]
    if totals and widths:
        widths[0] = max(widths[0], *totals)
        values = [cell_len(_plain(value)) for _, value in listing.totals]
        widths[-1] = max(widths[-1], *values)
    return sum(widths) + 3 * len(widths) + 1


def show(console: Console, listing: Listing) -> None:
    """Print `listing` whole: as a table on a terminal it fits, else as plain lines."""
    if console.is_terminal and needed_width(listing) <= console.width:
        console.print(listing.table())
        return
    # A terminal gets the lines wrapped between words; a pipe one line per row, for `grep`.
    for line in listing.lines():
        if console.is_terminal:
            console.print(line, markup=False, highlight=False, overflow="fold")
        else:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
