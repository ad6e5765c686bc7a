"""Show the library's own code in a lecture: what runs is what the student reads.

from course_lib.source import show_source
show_source(LeNet, skip_docstrings=True)     # highlighted code, in a `course-source` box
"""

from __future__ import annotations

__all__ = ["source_of", "show_source"]


def source_of(*objs, skip_docstrings: bool = False) -> str:
    """The source code of classes / functions, one after the other, exactly as the library runs it."""
    import inspect
    import textwrap

    if not objs:
        raise TypeError("source_of needs at least one class or function")
    parts = []
    for obj in objs:
        if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismethod(obj)):
            raise TypeError(f"expected a class or a function, got {type(obj).__name__}")
        src = textwrap.dedent(inspect.getsource(obj))
        if skip_docstrings:
            import ast

            tree = ast.parse(src)
            lines = src.splitlines(keepends=True)
            drop = set()
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if (
                    isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                    and body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(getattr(body[0], "value", None), ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    drop.update(range(body[0].lineno - 1, body[0].end_lineno))
            src = "".join(line for i, line in enumerate(lines) if i not in drop)
        parts.append(src.rstrip() + "\n")
    return "\n\n".join(parts)


def show_source(*objs, skip_docstrings: bool = False):
    """Show the library's own code of classes / functions in a notebook, with syntax highlighting.

    The lectures use it to show the model they are about: what runs is what you read. The HTML sits
    in a `course-source` box, which the slideshow (notebooks/rise.css) sets in two columns."""
    from IPython.display import Code

    class SourceCode(Code):
        def _repr_html_(self):
            return f'<div class="course-source">{super()._repr_html_()}</div>'

    return SourceCode(source_of(*objs, skip_docstrings=skip_docstrings), language="python")
