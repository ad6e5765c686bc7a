"""Recurrent networks, backpropagation through time and LSTMs (notebook 08).

Shapes: sequences are (B, T, features) (batch first), hidden states (B, H).
"""

from __future__ import annotations

import math

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


# ----------------------------------------------------------------------------- tasks
def recall_task(n: int, gap: int, classes: int = 4, seed: int = 0, distractors: bool = True):
    """Remember a symbol across a gap. x: (n, gap + 2, 2 * classes + 1), y: (n,).

    Step 0 shows one of `classes` symbols (one-hot); during the next `gap` steps random
    *distractor* symbols (another `classes` inputs) flash by; the last step raises a "recall now"
    flag (the last input). The answer is the symbol from step 0.
    """
    if gap < 0 or classes < 2:
        raise ValueError(f"gap must be >= 0 and classes >= 2, got {gap} and {classes}")
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    T = gap + 2
    x = torch.zeros(n, T, 2 * classes + 1)
    x[torch.arange(n), 0, y] = 1.0
    if distractors and gap > 0:
        d = torch.randint(0, classes, (n, gap), generator=g) + classes
        x[torch.arange(n)[:, None], torch.arange(1, gap + 1)[None], d] = 1.0
    x[:, -1, -1] = 1.0
    return x, y


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


def ngram_perplexity(
    train: list[int], test: list[int], n: int, vocab: int, k: float = 0.1
) -> float:
    """Perplexity of an order-n character model with add-k smoothing (the baseline an RNN must beat)."""
    from collections import Counter

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    ctx_counts, counts = Counter(), Counter()
    for i in range(n - 1, len(train)):
        ctx = tuple(train[i - n + 1 : i])
        counts[ctx + (train[i],)] += 1
        ctx_counts[ctx] += 1
    nll = 0.0
    for i in range(n - 1, len(test)):
        ctx = tuple(test[i - n + 1 : i])
        p = (counts[ctx + (test[i],)] + k) / (ctx_counts[ctx] + k * vocab)
        nll -= math.log(p)
    return math.exp(nll / (len(test) - n + 1))


class WittenBellModel:
    """An order-n character model with interpolated Witten-Bell smoothing: the n-gram baseline a
    practitioner would use (add-k smoothing, `ngram_perplexity`, is the simple one).

    P(w | h) = (c(h, w) + T(h) P(w | h')) / (c(h) + T(h)), with h' the context one shorter, T(h) the
    number of distinct characters seen after h, down to a uniform distribution over the vocabulary.
    """

    def __init__(self, train: list[int], n: int, vocab: int):
        from collections import Counter

        if n < 1 or vocab < 1:
            raise ValueError(f"n and vocab must be >= 1, got {n} and {vocab}")
        self.n, self.vocab = n, vocab
        self.counts = [Counter() for _ in range(n)]  # [k][(context of length k) + (w,)]
        self.context = [
            Counter() for _ in range(n)
        ]  # [k][context]: how often it was followed by anything
        self.types = [
            Counter() for _ in range(n)
        ]  # [k][context]: distinct characters seen after it
        for i, w in enumerate(train):
            for k in range(min(n, i + 1)):
                ctx = tuple(train[i - k : i])
                key = ctx + (w,)
                if self.counts[k][key] == 0:
                    self.types[k][ctx] += 1
                self.counts[k][key] += 1
                self.context[k][ctx] += 1

    def prob(self, history: list[int], w: int, order: int | None = None) -> float:
        """P(w | the last order-1 characters of history); order defaults to n (any order <= n works,
        so one model built with a large n serves every smaller order)."""
        order = self._order(order)
        p = 1.0 / self.vocab
        for k in range(min(order, len(history) + 1)):
            ctx = tuple(history[len(history) - k :]) if k else ()
            c = self.context[k][ctx]
            if c:
                t = self.types[k][ctx]
                p = (self.counts[k][ctx + (w,)] + t * p) / (c + t)
        return p

    def _order(self, order: int | None) -> int:
        order = self.n if order is None else order
        if not isinstance(order, int) or not 1 <= order <= self.n:
            raise ValueError(f"order must be an int in 1..{self.n}, got {order!r}")
        return order

    def perplexity(self, test: list[int], order: int | None = None) -> float:
        start = self._order(order) - 1
        nll = -sum(
            math.log(self.prob(test[i - start : i], test[i], start + 1))
            for i in range(start, len(test))
        )
        return math.exp(nll / (len(test) - start))

    def logprob(
        self, history: list[int], continuation: list[int], order: int | None = None
    ) -> float:
        """log P(continuation | history), one character at a time."""
        order, h, total = self._order(order), list(history), 0.0
        for w in continuation:
            total += math.log(self.prob(h[len(h) - order + 1 :] if order > 1 else [], w, order))
            h.append(w)
        return total


# ----------------------------------------------------------------------------- training on sentences, agreement
def sentence_starts(ids: torch.Tensor, newline: int, length: int) -> torch.Tensor:
    """Positions of the newlines that begin a sentence with at least `length` characters after them."""
    ids = torch.as_tensor(ids)
    starts = (ids == newline).nonzero()[:, 0]
    starts = starts[starts < len(ids) - length - 1]
    if len(starts) == 0:
        raise ValueError(
            f"no sentence start with {length} characters after it: is the text too short?"
        )
    return starts


def train_char_lm(
    model: nn.Module,
    ids: torch.Tensor,
    newline: int,
    steps: int,
    length: int = 100,
    batch_size: int = 32,
    lr: float = 3e-3,
    generator: torch.Generator | None = None,
    callback=None,
) -> list[float]:
    """Next-character training on windows that begin at a sentence start (the newline before it).

    Starting every window at a sentence start lets the network see each subject it must agree with and
    begin from a clean state, as it does when tested; windows cut at random places hide the subject of
    many verbs, and the LSTM then stays at chance on agreement. Adam with a one-cycle learning rate and
    gradient clipping at norm 1. callback(step, losses) after each step. Returns the losses.
    """
    ids = torch.as_tensor(ids, dtype=torch.long)
    starts = sentence_starts(ids, newline, length)
    vocab = model.vocab
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps, pct_start=0.1)
    offsets = torch.arange(length + 1)
    losses = []
    model.train()
    for step in range(steps):
        batch = ids[
            starts[torch.randint(0, len(starts), (batch_size,), generator=generator)][:, None]
            + offsets
        ]
        logits, _ = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if callback is not None:
            callback(step, losses)
    return losses


@torch.no_grad()
def lstm_logprob(model: nn.Module, history: list[int], continuation: list[int]) -> float:
    """log P(continuation | history) under a next-character model (CharLSTM)."""
    tokens = torch.tensor([list(history) + list(continuation)])
    with eval_mode(model):
        logp = model(tokens[:, :-1])[0][0].log_softmax(-1)
    targets = tokens[0, len(history) :]
    return logp[len(history) - 1 :].gather(1, targets[:, None]).sum().item()


def agreement_accuracy(logprob, items: list[dict], encode) -> dict[int, float]:
    """Share of agreement items (data.make_agreement_test) where logprob(history, continuation) ranks
    the right verb form above the wrong one, per number of intervening clauses. encode: str -> ids."""
    hits: dict[int, list[bool]] = {}
    for item in items:
        prefix = encode(item["prefix"])
        right, wrong = (
            logprob(prefix, encode(item["right"])),
            logprob(prefix, encode(item["wrong"])),
        )
        hits.setdefault(item["clauses"], []).append(right > wrong)
    return {k: sum(v) / len(v) for k, v in sorted(hits.items())}


# ----------------------------------------------------------------------------- next word (notebook 09)
def tokenize_words(text: str) -> list[str]:
    """Lower-case words, with '.' as a word of its own (the end of a sentence)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text.lower().replace(".", " .").split()


def word_windows(tokens: list[int], k: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """All (k previous words -> next word) pairs: contexts (N, k) int64, targets (N,) int64."""
    if not isinstance(k, int) or not 1 <= k < len(tokens):
        raise ValueError(f"k must be an int in 1..{len(tokens) - 1}, got {k!r}")
    t = torch.as_tensor(tokens, dtype=torch.long)
    return t.unfold(0, k, 1)[:-1], t[k:]


class NextWordMLP(nn.Module):
    """Bengio et al. (2003): embed the last k words, concatenate, one hidden layer, logits over the vocabulary.

    contexts: (B, k) word ids -> logits (B, vocab). `embed.weight` holds the learned word vectors.
    """

    def __init__(self, vocab: int, k: int = 3, dim: int = 16, hidden: int = 128):
        super().__init__()
        self.vocab, self.k = vocab, k
        self.embed = nn.Embedding(vocab, dim)
        self.net = nn.Sequential(nn.Linear(k * dim, hidden), nn.Tanh(), nn.Linear(hidden, vocab))

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        if contexts.ndim != 2 or contexts.shape[1] != self.k:
            raise ValueError(f"contexts must have shape (B, {self.k}), got {tuple(contexts.shape)}")
        return self.net(self.embed(contexts).flatten(1))
