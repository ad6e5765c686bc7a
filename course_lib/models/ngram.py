"""The n-gram character models a neural language model must beat (notebooks 08 and 09):
add-k smoothing (`ngram_perplexity`, the simple one) and interpolated Witten-Bell
(`WittenBellModel`, the one a practitioner would use)."""

from __future__ import annotations

import math


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
