"""course_lib.models.rnn: the by-hand RNN/LSTM against PyTorch's, BPTT against autograd, the tasks
and the text models of notebooks 08 and 09."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_lib.models import ngram, pretext, rnn, sequence_tasks
from course_lib.train import train_char_lm


def _weights(D=3, H=5, out=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(H, D, generator=g) * 0.5,
        torch.randn(H, H, generator=g) * 0.5,
        torch.randn(H, generator=g) * 0.1,
        torch.randn(out, H, generator=g) * 0.5,
    )


def test_rnn_forward_equals_nn_rnn():
    W, U, b, _ = _weights()
    ref = nn.RNN(3, 5, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(W)
        ref.weight_hh_l0.copy_(U)
        ref.bias_ih_l0.copy_(b)
        ref.bias_hh_l0.zero_()
    x = torch.randn(4, 7, 3)
    h = rnn.rnn_forward(x, W, U, b)
    expected, _ = ref(x)
    assert h.shape == (4, 7, 5)
    assert torch.allclose(h, expected, atol=1e-6)


def test_rnn_forward_uses_the_initial_state():
    W, U, b, _ = _weights()
    x, h0 = torch.randn(2, 3, 3), torch.randn(2, 5)
    first = torch.tanh(x[:, 0] @ W.T + h0 @ U.T + b)
    assert torch.allclose(rnn.rnn_forward(x, W, U, b, h0)[:, 0], first, atol=1e-6)


def test_bptt_by_hand_equals_autograd():
    W, U, b, V = (t.double() for t in _weights())
    x, y = torch.randn(4, 6, 3, dtype=torch.double), torch.randn(4, 2, dtype=torch.double)
    grads = rnn.bptt(x, W, U, b, V, y)
    params = [t.clone().requires_grad_(True) for t in (W, U, b, V)]
    h = rnn.rnn_forward(x, *params[:3])
    h.retain_grad()
    loss = 0.5 * ((h[:, -1] @ params[3].T - y) ** 2).sum()
    loss.backward()
    for name, p in zip("WUbV", params):
        assert torch.allclose(grads[name], p.grad, atol=1e-10), name
    assert torch.allclose(grads["dh"][:, -1], h.grad[:, -1], atol=1e-10)
    assert grads["dh"].shape == (4, 6, 5)


def test_bptt_gradient_vanishes_with_a_small_recurrent_matrix():
    W, U, b, V = _weights(seed=1)
    x, y = torch.randn(8, 20, 3), torch.randn(8, 2)
    dh = rnn.bptt(x, W, 0.2 * U, b, V, y)["dh"].norm(dim=(0, 2))
    assert dh[0] < 1e-3 * dh[-1], "with ||U|| small the error signal dies out going back in time"


def test_rnn_forward_rejects_bad_shapes():
    W, U, b, _ = _weights()
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        rnn.rnn_forward(torch.randn(7, 3), W, U, b)
    with pytest.raises(ValueError, match="expected 3 features"):
        rnn.rnn_forward(torch.randn(2, 7, 4), W, U, b)
    with pytest.raises(ValueError, match="U must be"):
        rnn.rnn_forward(torch.randn(2, 7, 3), W, U[:3], b)
    with pytest.raises(ValueError, match="batch, time, features"):
        rnn.rnn_forward([1, 2, 3], W, U, b)


def test_lstm_forward_equals_nn_lstm_and_gates_are_in_range():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 6, batch_first=True)
    x = torch.randn(3, 9, 4)
    out, (h, c), gates = rnn.lstm_forward(x, lstm)
    expected, (h_ref, c_ref) = lstm(x)
    assert torch.allclose(out, expected, atol=1e-6)
    assert torch.allclose(h, h_ref[0], atol=1e-6) and torch.allclose(c, c_ref[0], atol=1e-6)
    for name in ("input", "forget", "output"):
        assert gates[name].shape == (3, 9, 6) and 0 <= gates[name].min() and gates[name].max() <= 1
    assert gates["cell"].min() >= -1 and gates["cell"].max() <= 1


def test_lstm_cell_keeps_its_memory_when_forget_is_open_and_input_closed():
    H = 3
    b = torch.zeros(4 * H)
    b[:H], b[H : 2 * H] = -50.0, 50.0  # input gate ~0, forget gate ~1
    c = torch.randn(2, H)
    _, c_new, gates = rnn.lstm_cell(
        torch.randn(2, 2),
        torch.randn(2, H),
        c,
        torch.zeros(4 * H, 2),
        torch.zeros(4 * H, H),
        b,
        0 * b,
    )
    assert torch.allclose(c_new, c, atol=1e-6)
    assert gates["forget"].min() > 0.999 and gates["input"].max() < 1e-3


def test_lstm_forward_rejects_unsupported_layers():
    with pytest.raises(ValueError, match="single-layer"):
        rnn.lstm_forward(torch.randn(1, 2, 4), nn.LSTM(4, 6, num_layers=2, batch_first=True))
    with pytest.raises(ValueError, match="batch_first"):
        rnn.lstm_forward(torch.randn(1, 2, 4), nn.LSTM(4, 6))
    with pytest.raises(ValueError, match="single-layer"):
        rnn.lstm_forward(torch.randn(1, 2, 4), nn.GRU(4, 6, batch_first=True))


def test_rnn_classifier_shapes_and_open_forget_gate():
    m = rnn.RNNClassifier(5, hidden=8, classes=3)
    assert m(torch.randn(2, 7, 5)).shape == (2, 3)
    assert torch.equal(m.rnn.bias_ih_l0[8:16], torch.ones(8)), "forget-gate bias starts at +1"
    every = rnn.RNNClassifier(5, hidden=8, classes=3, cell="rnn", every_step=True)
    assert every(torch.randn(2, 7, 5)).shape == (2, 7, 3)
    with pytest.raises(ValueError, match="'rnn' or 'lstm'"):
        rnn.RNNClassifier(5, cell="gru")
    with pytest.raises(ValueError, match="expected 5 features"):
        m(torch.randn(2, 7, 4))


def test_window_mlp_sees_only_its_window():
    torch.manual_seed(0)
    m = rnn.WindowMLP(3, window=4, classes=2)
    x = torch.randn(2, 10, 3)
    changed_early = x.clone()
    changed_early[:, :6] = torch.randn(2, 6, 3)
    assert torch.equal(m(x), m(changed_early)), "inputs older than the window cannot matter"
    changed_late = x.clone()
    changed_late[:, -1] += 1.0
    assert not torch.equal(m(x), m(changed_late))
    assert m(torch.randn(2, 2, 3)).shape == (2, 2), "short sequences are padded on the left"


def test_recall_task_layout():
    x, y = sequence_tasks.recall_task(50, gap=6, classes=4, seed=3)
    assert x.shape == (50, 8, 9) and y.shape == (50,)
    assert torch.equal(x[:, 0, :4].argmax(1), y), "step 0 shows the symbol to remember"
    assert torch.all(x[:, -1, -1] == 1) and torch.all(x[:, :-1, -1] == 0), (
        "the recall flag comes last"
    )
    assert torch.all(x[:, 1:7, 4:8].sum(2) == 1), "one distractor per gap step"
    x2, y2 = sequence_tasks.recall_task(50, gap=6, classes=4, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    quiet, _ = sequence_tasks.recall_task(5, gap=3, distractors=False)
    assert quiet[:, 1:4].sum() == 0
    with pytest.raises(ValueError, match="gap must be >= 0"):
        sequence_tasks.recall_task(5, gap=-1)


def test_char_lstm_carries_state_between_calls():
    torch.manual_seed(0)
    m = rnn.CharLSTM(vocab=11, embed=4, hidden=8).eval()
    tokens = torch.randint(0, 11, (2, 9))
    whole, _ = m(tokens)
    first, state = m(tokens[:, :5])
    second, _ = m(tokens[:, 5:], state)
    assert whole.shape == (2, 9, 11)
    assert torch.allclose(torch.cat([first, second], 1), whole, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        m(torch.randint(0, 11, (9,)))


def test_char_lstm_generate_is_seeded_and_leaves_the_mode_alone():
    torch.manual_seed(0)
    m = rnn.CharLSTM(vocab=7, embed=4, hidden=8)
    m.train()
    a = m.generate([1, 2], 10, generator=torch.Generator().manual_seed(5))
    b = m.generate([1, 2], 10, generator=torch.Generator().manual_seed(5))
    assert a == b and len(a) == 12 and a[:2] == [1, 2] and all(0 <= t < 7 for t in a)
    assert m.training, "generate must give the model back in the mode it found it"


def test_ngram_perplexity_reference_values():
    vocab = 4
    cycle = [0, 1, 2, 3] * 50
    assert math.isclose(ngram.ngram_perplexity(cycle, cycle, 1, vocab, k=0.1), 4.0, rel_tol=1e-6)
    # order 2 knows the cycle: the next symbol is certain, up to the smoothing
    assert ngram.ngram_perplexity(cycle, cycle, 2, vocab, k=0.01) < 1.01
    unseen = [3, 2, 1, 0] * 10
    assert ngram.ngram_perplexity(cycle, unseen, 2, vocab, k=0.01) > 50
    with pytest.raises(ValueError, match="n must be >= 1"):
        ngram.ngram_perplexity(cycle, cycle, 0, vocab)


def test_word_tokens_windows_and_the_next_word_model():
    words = sequence_tasks.tokenize_words("The cat sat. The dog ran.")
    assert words == ["the", "cat", "sat", ".", "the", "dog", "ran", "."]
    ids = list(range(8))
    ctx, nxt = sequence_tasks.word_windows(ids, k=3)
    assert ctx.shape == (5, 3) and ctx[0].tolist() == [0, 1, 2] and nxt.tolist() == [3, 4, 5, 6, 7]
    m = pretext.NextWordMLP(vocab=8, k=3, dim=4, hidden=16)
    assert m(ctx).shape == (5, 8)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        m(ctx[:, :2])
    with pytest.raises(ValueError, match="k must be an int"):
        sequence_tasks.word_windows(ids, k=8)
    with pytest.raises(TypeError, match="must be a str"):
        sequence_tasks.tokenize_words(["a", "b"])


def test_witten_bell_reference_values_and_a_distribution():
    # train 0 1 0 1 0 2, n = 2: P(w) = (c(w) + 1) / 9; after "0": c = 3, T = 2 distinct followers
    model = ngram.WittenBellModel([0, 1, 0, 1, 0, 2], n=2, vocab=3)
    assert model.prob([], 0) == pytest.approx(4 / 9)
    assert model.prob([0], 1) == pytest.approx((2 + 2 * 3 / 9) / 5)
    assert model.prob([0], 0) == pytest.approx((0 + 2 * 4 / 9) / 5)
    assert model.prob([2], 1) == pytest.approx(3 / 9), (
        "an unseen context falls back to the shorter one"
    )
    text = [0, 1, 2, 3, 1, 2, 0, 3, 3, 1, 2, 0] * 30 + [0, 2, 1]
    big = ngram.WittenBellModel(text, n=4, vocab=6)  # two symbols (4, 5) never occur
    for history in ([], [0], [1, 2], [3, 1, 2], [5, 5, 5]):
        assert sum(big.prob(history, w) for w in range(6)) == pytest.approx(1.0), history
    assert big.prob([1, 2], 4) > 0, "unseen characters keep some probability"
    assert big.perplexity(text[:60]) < 1.5, "the training text itself is nearly certain"
    with pytest.raises(ValueError, match="n and vocab"):
        ngram.WittenBellModel(text, n=0, vocab=6)


def test_witten_bell_lower_orders_match_a_model_built_at_that_order():
    text = [0, 1, 2, 3, 1, 2, 0, 3, 3, 1, 2, 0] * 20 + [0, 2, 1]
    big, small = (
        ngram.WittenBellModel(text, n=5, vocab=6),
        ngram.WittenBellModel(text, n=3, vocab=6),
    )
    for history in ([], [0], [1, 2], [3, 1, 2, 0]):
        for w in range(6):
            assert big.prob(history, w, order=3) == pytest.approx(small.prob(history, w))
    assert big.perplexity(text[:50], order=3) == pytest.approx(small.perplexity(text[:50]))
    # logprob is the sum of the one-character log-probabilities
    want = math.log(small.prob([1, 2], 0)) + math.log(small.prob([2, 0], 3))
    assert small.logprob([0, 1, 2], [0, 3]) == pytest.approx(want)
    with pytest.raises(ValueError, match="order must be an int in 1..5"):
        big.prob([1], 0, order=6)


def test_agreement_items_follow_the_grammar_and_the_corpus_has_no_agreement_errors():
    from course_lib import data

    items = data.make_agreement_test(50, seed=3)
    assert [sum(i["clauses"] == k for i in items) for k in (0, 1, 2)] == [50, 50, 50]
    assert items == data.make_agreement_test(50, seed=3), "seeded"
    for item in items:
        assert item["prefix"].startswith("\n") and item["prefix"].endswith(" ")
        assert item["prefix"].count(" that ") + item["prefix"].count(" who ") == item["clauses"]
        assert item["right"] != item["wrong"]
        first = next(v for v in data._VERBS if item["right"].startswith(v[item["plural"]]))
        assert item["wrong"].startswith(first[1 - item["plural"]])
    # in the corpus, no clause verb is a present-tense singular form ("lives", "likes"), which
    # would be an agreement error after a plural subject
    text = data.make_text_corpus(500, seed=1)
    assert " lives " not in text and " likes " not in text
    assert set(text) <= set(data.text_alphabet())


def test_agreement_accuracy_counts_the_right_form_per_depth():
    items = [
        {"clauses": 0, "prefix": "a", "right": "b", "wrong": "c", "plural": 0},
        {"clauses": 1, "prefix": "a", "right": "b", "wrong": "c", "plural": 0},
        {"clauses": 1, "prefix": "a", "right": "c", "wrong": "b", "plural": 1},
    ]
    always_b = lambda history, cont: 0.0 if cont == [1] else -1.0  # noqa: E731
    acc = sequence_tasks.agreement_accuracy(
        always_b, items, lambda s: [ord(c) - ord("a") for c in s]
    )
    assert acc == {0: 1.0, 1: 0.5}


def test_lstm_logprob_matches_the_softmax_of_the_model_and_training_lowers_the_loss():
    torch.manual_seed(0)
    model = rnn.CharLSTM(vocab=5, embed=4, hidden=8)
    history, cont = [4, 0, 1], [2, 3]
    with torch.no_grad():
        logp = model(torch.tensor([history + cont[:-1]]))[0][0].log_softmax(-1)
    want = logp[2, 2] + logp[3, 3]
    assert rnn.lstm_logprob(model, history, cont) == pytest.approx(want.item(), abs=1e-5)
    # sentences "0 1 2 3 ." with newline 4: the loop only starts windows at a newline
    ids = torch.tensor([4, 0, 1, 2, 3] * 60)
    starts = sequence_tasks.sentence_starts(ids, 4, 10)
    assert (ids[starts] == 4).all() and starts.max() < len(ids) - 11
    losses = train_char_lm(
        model,
        ids,
        4,
        200,
        length=10,
        batch_size=8,
        lr=3e-2,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(losses) == 200 and sum(losses[-10:]) < 0.1 * sum(losses[:10])
    with pytest.raises(ValueError, match="no sentence start"):
        sequence_tasks.sentence_starts(torch.tensor([0, 1, 4, 2]), 4, 10)


def test_shipped_char_lstm_knows_the_subject_across_clauses_where_n_grams_guess():
    from course_lib import checkpoints, data
    from course_lib.data import text_ids

    model = checkpoints.load_checkpoint("char_lstm", rnn.CharLSTM)
    items = data.make_agreement_test(60, seed=data.TEXT_CORPORA["agreement"]["seed"])
    acc = sequence_tasks.agreement_accuracy(
        lambda h, c: rnn.lstm_logprob(model, h, c), items, text_ids
    )
    assert min(acc.values()) >= 0.9, acc
    wb = ngram.WittenBellModel(
        text_ids(data.make_text_corpus(3_000, seed=5)), 10, len(data.text_alphabet())
    )
    wb_acc = sequence_tasks.agreement_accuracy(lambda h, c: wb.logprob(h, c), items, text_ids)
    assert wb_acc[0] >= 0.8 and max(wb_acc[1], wb_acc[2]) <= 0.7, wb_acc
