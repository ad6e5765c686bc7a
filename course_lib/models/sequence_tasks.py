"""The sequence tasks of notebooks 08 and 09: what the recurrent and next-word models train and are
tested on.

    recall_task          remember a symbol across a gap of distractors (the memory task)
    sentence_windows     batches of character windows that begin at a sentence start
    agreement_accuracy   the long-range subject-verb agreement test, for any model's logprob
    tokenize_words / word_windows   (k previous words -> next word) pairs
"""

from __future__ import annotations

import torch


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


def sentence_windows(
    ids: torch.Tensor,
    newline: int,
    length: int,
    batch_size: int,
    generator: torch.Generator | None = None,
):
    """Endless batches (batch_size, length + 1) of character ids, each window beginning at the newline
    before a sentence: inputs batch[:, :-1], next-character targets batch[:, 1:].

    Starting every window at a sentence start lets the network see each subject it must agree with
    and begin from a clean state, as it does when tested; windows cut at random places hide the
    subject of many verbs, and the LSTM then stays at chance on agreement."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    starts = sentence_starts(ids, newline, length)
    offsets = torch.arange(length + 1)
    while True:
        picked = starts[torch.randint(0, len(starts), (batch_size,), generator=generator)]
        yield ids[picked[:, None] + offsets]


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
