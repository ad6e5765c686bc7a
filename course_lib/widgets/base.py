"""What every course widget shares: an ipywidgets layout plus a static picture for exports."""
from __future__ import annotations

import base64


class CourseWidget:
    """Subclasses set `self.view` (an ipywidgets container) and implement `snapshot_png()`.

    Displaying the widget shows the live view in JupyterLab. The same output also carries a
    PNG of the current view, so an exported deck or HTML page (no kernel) still shows a picture.
    """

    view = None

    def snapshot_png(self) -> bytes:  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.view._repr_mimebundle_(include=include, exclude=exclude)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["image/png"] = base64.b64encode(self.snapshot_png()).decode("ascii")
        return data
