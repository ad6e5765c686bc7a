"""Models of the course, one module per family; plain nn.Modules, readable top to bottom."""
from .classifiers import MLPClassifier

__all__ = ["MLPClassifier"]
