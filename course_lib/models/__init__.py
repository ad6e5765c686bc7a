"""Models of the course, one module per family; plain nn.Modules, readable top to bottom."""

from .autoencoders import Autoencoder, SparseAutoencoder, StackedClassifier
from .classifiers import MLPClassifier
from .cnn import LeNet, SmallCNN
from .layers import HandBatchNorm, deep_mlp

__all__ = [
    "Autoencoder",
    "SparseAutoencoder",
    "StackedClassifier",
    "MLPClassifier",
    "LeNet",
    "SmallCNN",
    "HandBatchNorm",
    "deep_mlp",
]
