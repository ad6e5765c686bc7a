"""Small fully connected classifiers (notebooks 00 and 01)."""

from __future__ import annotations

import math

from torch import nn


class MLPClassifier(nn.Module):
    """x: (B, 1, H, W) or (B, D) -> logits (B, classes).

    in_features = H * W; hidden: sizes of the hidden layers; dropout: probability p of
    dropping each hidden unit during training (0 = no dropout).
    """

    def __init__(
        self,
        in_features: int = 64,
        hidden: tuple[int, ...] | list[int] = (64,),
        classes: int = 10,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not isinstance(in_features, int) or in_features < 1:
            raise ValueError(f"in_features must be a positive int, got {in_features!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_features = in_features
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        features = math.prod(x.shape[1:])
        if features != self.in_features:
            raise ValueError(
                f"MLPClassifier expects inputs with {self.in_features} features per example "
                f"(e.g. (B, 1, 8, 8)), got shape {tuple(x.shape)}"
            )
        return self.net(x)
