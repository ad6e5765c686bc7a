"""Recurrent networks by hand and in PyTorch (notebook 08): the plain RNN and backpropagation
through time, the LSTM cell, a sequence classifier, the window baseline, the character LSTM.

Shapes: sequences are (B, T, features) (batch first), hidden states (B, H).
The n-gram baselines are in `models.ngram`, the tasks (memory task, sentence windows, agreement
test, word windows) in `models.sequence_tasks`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import eval_mode


def _check_seq(x: torch.Tensor, features: int | None = None) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"sequences must be (batch, time, features), got {shape}")
    if features is not None and x.shape[2] != features:
        raise ValueError(
            f"expected {features} features per time step, got {x.shape[2]} (shape {tuple(x.shape)})"
        )


# ----------------------------------------------------------------------------- plain RNN
def rnn_forward(
    x: torch.Tensor,
    W: torch.Tensor,
    U: torch.Tensor,
    b: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> torch.Tensor:
    """h_t = tanh(W x_t + U h_{t-1} + b) for t = 1..T. x: (B, T, D); W: (H, D); U: (H, H); b: (H,).

    Returns all hidden states (B, T, H). The same W, U, b are used at every step (shared weights).
    """
    _check_seq(x, W.shape[1])
    if U.shape != (W.shape[0], W.shape[0]) or b.shape != (W.shape[0],):
        raise ValueError(
            f"U must be ({W.shape[0]}, {W.shape[0]}) and b ({W.shape[0]},), got {tuple(U.shape)} and {tuple(b.shape)}"
        )
    h = torch.zeros(x.shape[0], W.shape[0], dtype=x.dtype) if h0 is None else h0
    states = []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ W.T + h @ U.T + b)
        states.append(h)
    return torch.stack(states, 1)


def bptt(x: torch.Tensor, W, U, b, V, y) -> dict:
    """Backpropagation through time, by hand, for loss = 1/2 ||V h_T - y||^2 summed over the batch.

    Walks back from t = T to 1: the error at h_t goes through tanh (a_t = pre-activation),
    adds this step's contribution to the gradients of the *shared* W, U, b, and flows on to
    h_{t-1} through U. Returns {"W", "U", "b", "V"} gradients and "dh" (B, T, H): dL/dh_t per step.
    """
    h = rnn_forward(x, W, U, b)
    B, T, H = h.shape
    out = h[:, -1] @ V.T
    d_out = out - y  # dL/d(out)
    grads = {
        "V": d_out.T @ h[:, -1],
        "W": torch.zeros_like(W),
        "U": torch.zeros_like(U),
        "b": torch.zeros_like(b),
    }
    dh_all = torch.zeros_like(h)
    dh = d_out @ V  # dL/dh_T
    for t in range(T - 1, -1, -1):
        dh_all[:, t] = dh
        da = dh * (1 - h[:, t] ** 2)  # through tanh
        h_prev = h[:, t - 1] if t > 0 else torch.zeros(B, H, dtype=x.dtype)
        grads["W"] += da.T @ x[:, t]  # this time step's copy of W
        grads["U"] += da.T @ h_prev
        grads["b"] += da.sum(0)
        dh = da @ U  # on to h_{t-1}
    grads["dh"] = dh_all
    return grads


class RNNClassifier(nn.Module):
    """nn.RNN (tanh) or nn.LSTM over a sequence, a linear read-out of the last hidden state.

    x: (B, T, input_size) -> logits (B, classes) (or (B, T, classes) with every_step=True).
    """

    def __init__(
        self,
        input_size: int,
        hidden: int = 64,
        classes: int = 4,
        cell: str = "lstm",
        every_step: bool = False,
    ):
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
        self.input_size, self.every_step, self.cell = input_size, every_step, cell
        layer = nn.LSTM if cell == "lstm" else nn.RNN
        self.rnn = layer(input_size, hidden, batch_first=True)
        if cell == "lstm":
            # start with the forget gate open (bias +1): remember by default (Jozefowicz et al., 2015)
            with torch.no_grad():
                self.rnn.bias_ih_l0[hidden : 2 * hidden].fill_(1.0)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        _check_seq(x, self.input_size)
        h, _ = self.rnn(x)
        return self.head(h) if self.every_step else self.head(h[:, -1])


class WindowMLP(nn.Module):
    """The naive fix: a dense network on the last `window` inputs only (delayed inputs).

    x: (B, T, D) -> logits (B, classes) from x[:, -window:]. It cannot see further back.
    """

    def __init__(self, input_size: int, window: int = 5, hidden: int = 64, classes: int = 4):
        super().__init__()
        self.input_size, self.window = input_size, window
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(window * input_size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        _check_seq(x, self.input_size)
        if x.shape[1] < self.window:
            x = F.pad(x, (0, 0, self.window - x.shape[1], 0))
        return self.net(x[:, -self.window :])


# ----------------------------------------------------------------------------- LSTM by hand
def lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's weight layout (gates stacked as input, forget, cell, output).

    i = sigma(W_i x + U_i h + b_i)      input gate: how much new content to write
    f = sigma(W_f x + U_f h + b_f)      forget gate: how much of the old cell state to keep
    g = tanh (W_g x + U_g h + b_g)      candidate content
    o = sigma(W_o x + U_o h + b_o)      output gate: how much of the cell to show
    c' = f * c + i * g;  h' = o * tanh(c')
    Returns (h', c', gates) with gates = {"input", "forget", "cell", "output"}, each (B, H).
    """
    z = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = z.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c, {"input": i, "forget": f, "cell": g, "output": o}


def lstm_forward(x: torch.Tensor, lstm: nn.LSTM):
    """Run lstm_cell over a sequence with the weights of a (single-layer, batch-first) nn.LSTM.

    Returns (outputs (B, T, H), (h_T, c_T), gates) with gates[name]: (B, T, H) - for plotting.
    """
    if (
        not isinstance(lstm, nn.LSTM)
        or lstm.num_layers != 1
        or lstm.bidirectional
        or not lstm.batch_first
    ):
        raise ValueError(
            "lstm_forward needs a single-layer, one-directional nn.LSTM with batch_first=True"
        )
    _check_seq(x, lstm.input_size)
    B, H = x.shape[0], lstm.hidden_size
    h, c = torch.zeros(B, H), torch.zeros(B, H)
    outs, gates = [], {k: [] for k in ("input", "forget", "cell", "output")}
    for t in range(x.shape[1]):
        h, c, g = lstm_cell(
            x[:, t], h, c, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
        )
        outs.append(h)
        for k in gates:
            gates[k].append(g[k])
    return torch.stack(outs, 1), (h, c), {k: torch.stack(v, 1) for k, v in gates.items()}


class CharLSTM(nn.Module):
    """Next-character model: embedding -> LSTM -> logits over the vocabulary.

    tokens (B, T) ints -> logits (B, T, vocab); state can be carried between calls (generation).
    """

    def __init__(self, vocab: int, embed: int = 32, hidden: int = 128):
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens, state=None):
        if tokens.ndim != 2:
            raise ValueError(
                f"tokens must be (batch, time) integers, got shape {tuple(tokens.shape)}"
            )
        h, state = self.lstm(self.embed(tokens), state)
        return self.head(h), state

    def generate(
        self, prompt: list[int], n: int, temperature: float = 0.8, generator=None
    ) -> list[int]:
        """The prompt followed by n sampled tokens (the model's train/eval mode is left as it was)."""
        out = list(prompt)
        with eval_mode(self):
            logits, state = self(torch.tensor([prompt]))
            for _ in range(n):
                probs = torch.softmax(logits[0, -1] / temperature, 0)
                nxt = int(torch.multinomial(probs, 1, generator=generator))
                out.append(nxt)
                logits, state = self(torch.tensor([[nxt]]), state)
        return out


@torch.no_grad()
def lstm_logprob(model: nn.Module, history: list[int], continuation: list[int]) -> float:
    """log P(continuation | history) under a next-character model (CharLSTM)."""
    tokens = torch.tensor([list(history) + list(continuation)])
    with eval_mode(model):
        logp = model(tokens[:, :-1])[0][0].log_softmax(-1)
    targets = tokens[0, len(history) :]
    return logp[len(history) - 1 :].gather(1, targets[:, None]).sum().item()
