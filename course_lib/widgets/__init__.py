"""Interactive views. Each widget keeps its state in a small object and renders through a pure
function (state -> PNG bytes) that tests call without a browser."""
from .base import CourseWidget
from .dataset_browser import BrowserState, DatasetBrowser, render_browser

__all__ = ["CourseWidget", "DatasetBrowser", "BrowserState", "render_browser"]
