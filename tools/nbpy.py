"""Convert notebooks to and from a plain-text "percent" script, for authoring and review.

    python tools/nbpy.py to-nb  script.py  notebooks/NN_name.ipynb
    python tools/nbpy.py to-py  notebooks/NN_name.ipynb  script.py

Cell headers:  `# %% [markdown] slide`  or  `# %% fragment tags=solution hidden`
  slide types: slide, subslide, fragment, skip, notes, - (default)
  tags=a,b   cell tags (e.g. solution, nbval-skip)
  hidden     the cell's source starts collapsed in JupyterLab (solutions)
Markdown lines are written as `# text`. Notebooks are written without outputs.
"""
from __future__ import annotations

import re
import sys

import nbformat

HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?P<rest>.*)$")
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def to_notebook(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (course)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    cells, current = [], None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            current = {"md": bool(m["md"]), "words": m["rest"].split(), "lines": []}
            cells.append(current)
        elif current is not None:
            current["lines"].append(line)
    for c in cells:
        lines = c["lines"]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if c["md"]:
            source = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines)
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        slide, tags, hidden = "-", [], False
        for w in c["words"]:
            if w in SLIDE_TYPES:
                slide = w
            elif w.startswith("tags="):
                tags = [t for t in w[5:].split(",") if t]
            elif w == "hidden":
                hidden = True
            else:
                raise ValueError(f"unknown word {w!r} in a cell header")
        cell.metadata["slideshow"] = {"slide_type": slide}
        if tags:
            cell.metadata["tags"] = tags
        if hidden:
            cell.metadata["jupyter"] = {"source_hidden": True}
        cell.pop("id", None)
        nb.cells.append(cell)
    # stable ids, so regenerating a notebook gives a small diff
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:03d}"
    return nb


def to_script(nb) -> str:
    out = []
    for cell in nb.cells:
        words = []
        slide = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if slide != "-":
            words.append(slide)
        if cell.metadata.get("tags"):
            words.append("tags=" + ",".join(cell.metadata["tags"]))
        if cell.metadata.get("jupyter", {}).get("source_hidden"):
            words.append("hidden")
        md = cell.cell_type == "markdown"
        out.append("# %%" + (" [markdown]" if md else "") + "".join(" " + w for w in words))
        if md:
            out += [("# " + l) if l else "#" for l in cell.source.splitlines()]
        else:
            out += cell.source.splitlines()
        out.append("")
    return "\n".join(out)


def main(argv):
    if len(argv) != 3 or argv[0] not in ("to-nb", "to-py"):
        print(__doc__)
        return 2
    mode, src, dst = argv
    if mode == "to-nb":
        with open(src) as f:
            nb = to_notebook(f.read())
        nbformat.validate(nb)
        nbformat.write(nb, dst)
    else:
        with open(dst, "w") as f:
            f.write(to_script(nbformat.read(src, as_version=4)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
