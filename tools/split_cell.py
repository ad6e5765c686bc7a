"""Split a long notebook cell in two or more at given lines (authoring helper for slides):

    python tools/split_cell.py NOTEBOOK CELL_ID LINE[:TYPE] [LINE[:TYPE] ...]

Each LINE (1-based, the first line of a new cell) starts a new cell; TYPE is that cell's
slide_type (default subslide: a new slide below). The first part keeps the cell's id, outputs
are dropped (notebooks are committed without outputs). Run jupytext --sync afterwards.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import nbformat


def split(path: Path, cell_id: str, cuts: list[tuple[int, str]]) -> int:
    nb = nbformat.read(path, as_version=4)
    index = next((i for i, c in enumerate(nb.cells) if c.get("id") == cell_id), None)
    if index is None:
        raise SystemExit(f"{path.name}: no cell with id {cell_id!r}")
    cell = nb.cells[index]
    lines = cell.source.split("\n")
    bounds = [0] + [line - 1 for line, _ in cuts] + [len(lines)]
    if bounds != sorted(bounds) or bounds[1] <= 0:
        raise SystemExit(f"lines must increase and lie inside the cell's {len(lines)} lines")
    parts = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    cell.source = parts[0]
    new_cells = []
    for text, (_, kind) in zip(parts[1:], cuts):
        new = (
            nbformat.v4.new_code_cell(text)
            if cell.cell_type == "code"
            else nbformat.v4.new_markdown_cell(text)
        )
        new.id = uuid.uuid4().hex[:8]
        new.metadata["slideshow"] = {"slide_type": kind}
        new_cells.append(new)
    nb.cells[index + 1 : index + 1] = new_cells
    nbformat.write(nb, path)
    return len(new_cells)


if __name__ == "__main__":
    path, cell_id, *specs = sys.argv[1:]
    cuts = [(int(s.split(":")[0]), s.split(":")[1] if ":" in s else "subslide") for s in specs]
    print(f"{split(Path(path), cell_id, cuts)} new cell(s) after {cell_id}")
