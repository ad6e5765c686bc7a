import copy
import math

import pytest
import torch
from torch import nn

from course_lib.models import MLPClassifier
from course_lib.train import (
    EMA,
    LossGuard,
    NonFiniteLossError,
    Snapshot,
    accuracy,
    evaluate,
    fit,
    predict,
)


def _blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centres = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    x = centres[y] + 0.6 * torch.randn(n, 2, generator=g)
    return x, y


def test_fit_learns_and_beats_chance():
    torch.manual_seed(0)
    x, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    history = fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        epochs=15,
        lr=1e-2,
        batch_size=32,
        eval_data=_blobs(200, seed=1),
        metrics={"acc": accuracy},
        progress=False,
    )
    assert len(history["train_loss"]) == 15 == len(history["val_loss"]) == len(history["val_acc"])
    assert history["train_loss"][-1] < history["train_loss"][0] / 3
    assert history.last("val_acc") > 0.9  # chance is 1/3
    assert len(history.step_loss) == 15 * math.ceil(400 / 32)
    assert not model.training, "fit leaves the model in eval mode"


def test_fit_is_deterministic_for_a_seed():
    def run():
        torch.manual_seed(0)
        model = nn.Linear(2, 3)
        fit(model, _blobs(), nn.CrossEntropyLoss(), epochs=2, progress=False, seed=3)
        return model.weight.detach().clone()

    assert torch.equal(run(), run())


def test_fit_autoencoder_target_is_input():
    torch.manual_seed(0)
    x = torch.rand(128, 8)
    model = nn.Sequential(nn.Linear(8, 8))
    history = fit(model, x, nn.MSELoss(), epochs=30, lr=1e-2, progress=False)
    assert history["train_loss"][-1] < 0.25 * history["train_loss"][0]


def test_nan_guard_names_the_step():
    model = nn.Linear(2, 3)
    x, y = _blobs(64)
    x[40] = float("nan")
    # fit shuffles with a generator seeded by `seed`: find the batch that holds row 40
    order = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    step = order.tolist().index(40) // 16
    with pytest.raises(NonFiniteLossError, match=rf"epoch 0, step {step} \(global step {step}\)"):
        fit(model, (x, y), nn.CrossEntropyLoss(), epochs=1, batch_size=16, progress=False, seed=0)
    # an infinite loss from a diverging learning rate is caught too
    model = nn.Linear(2, 1)
    xs = torch.randn(64, 2) * 1e3
    with pytest.raises(NonFiniteLossError, match="loss became|loss grew"):
        fit(
            model,
            (xs, xs.sum(1, keepdim=True)),
            nn.MSELoss(),
            epochs=50,
            progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=1.0),
        )


def test_callbacks_see_every_step():
    seen = []
    model = nn.Linear(2, 3)
    fit(
        model,
        _blobs(100),
        nn.CrossEntropyLoss(),
        epochs=2,
        batch_size=50,
        progress=False,
        callbacks=[lambda info: seen.append((info["epoch"], info["step"], info["loss"]))],
    )
    assert [s[:2] for s in seen] == [(0, 1), (0, 2), (1, 3), (1, 4)]
    assert all(math.isfinite(s[2]) for s in seen)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"train_data": [1, 2]}, TypeError, "tuple of tensors"),
        ({"train_data": (torch.zeros(4, 2), torch.zeros(3))}, ValueError, "same first dimension"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"loss_fn": "mse"}, TypeError, "loss_fn must be callable"),
    ],
)
def test_fit_bad_inputs(kwargs, error, message):
    args = {"train_data": _blobs(10), "loss_fn": nn.CrossEntropyLoss()}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        fit(nn.Linear(2, 3), args.pop("train_data"), args.pop("loss_fn"), progress=False, **args)


def test_evaluate_predict_and_accuracy():
    model = nn.Linear(2, 3)
    x, y = _blobs(50)
    result = evaluate(model, (x, y), nn.CrossEntropyLoss(), {"acc": accuracy})
    logits = predict(model, x, batch_size=7)
    assert logits.shape == (50, 3)
    assert result["acc"] == pytest.approx(accuracy(logits, y))
    assert result["loss"] == pytest.approx(nn.CrossEntropyLoss()(logits, y).item(), rel=1e-5)
    with pytest.raises(ValueError, match=r"logits \(B, C\)"):
        accuracy(logits[:, 0], y)


def test_mlp_classifier_shapes_and_errors():
    model = MLPClassifier(64, [32], 10, dropout=0.2)
    assert model(torch.rand(5, 1, 8, 8)).shape == (5, 10)
    with pytest.raises(ValueError, match="64 features"):
        model(torch.rand(5, 1, 28, 28))
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(64, [32], 10, dropout=1.0)


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA GPU here; the cuda path is checked where one is lent",
)
def test_fit_on_cuda():
    model = nn.Linear(2, 3).cuda()
    history = fit(
        model,
        _blobs(),
        nn.CrossEntropyLoss(),
        epochs=2,
        progress=False,
        eval_data=_blobs(50, 1),
        metrics={"acc": accuracy},
    )
    assert next(model.parameters()).is_cuda and len(history["val_acc"]) == 2


def test_fit_evaluates_several_named_sets():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    x, y = _blobs()
    history = fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        epochs=3,
        progress=False,
        metrics={"acc": accuracy},
        eval_data={"train": (x, y), "test": _blobs(100, seed=2)},
    )
    assert {"train_eval_loss", "train_eval_acc", "test_loss", "test_acc"} <= set(history)
    # the eval-mode loss on the training set equals evaluate() after training (dropout off)
    assert history["train_eval_loss"][-1] == pytest.approx(
        evaluate(model, (x, y), nn.CrossEntropyLoss())["loss"]
    )
    with pytest.raises(TypeError, match=r"eval_data\['test'\]"):
        fit(model, (x, y), nn.CrossEntropyLoss(), progress=False, eval_data={"test": [1]})


# ----------------------------------------------------------------------------- fit never destroys a model
def _trained_blob_model():
    torch.manual_seed(0)
    x, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    fit(model, (x, y), nn.CrossEntropyLoss(), epochs=10, lr=1e-2, batch_size=32, progress=False)
    return model, x, y


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_a_diverging_learning_rate_leaves_the_trained_weights_intact():
    model, x, y = _trained_blob_model()
    before, acc = _weights(model), accuracy(predict(model, x), y)
    sgd = torch.optim.SGD(model.parameters(), lr=1e9)
    with pytest.raises(NonFiniteLossError, match="restored to the start of this fit") as err:
        fit(model, (x, y), nn.CrossEntropyLoss(), epochs=3, optimizer=sgd, progress=False)
    assert "smaller learning rate" in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert accuracy(predict(model, x), y) == acc and not model.training
    assert err.value.history is not None and len(err.value.history.step_loss) >= 1
    # the message's advice works: refit with a sensible learning rate
    fit(model, (x, y), nn.CrossEntropyLoss(), epochs=1, lr=1e-3, progress=False)
    assert accuracy(predict(model, x), y) > 0.9


def test_a_nan_input_names_the_row_and_changes_no_weight():
    model, x, y = _trained_blob_model()
    before = _weights(model)
    x = x.clone()
    x[123] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"rows \[123\] of train_data") as err:
        fit(model, (x, y), nn.CrossEntropyLoss(), epochs=2, batch_size=32, progress=False)
    assert "clean the data" in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_nan_in_a_later_epoch_goes_back_to_the_last_good_epoch():
    x, y = _blobs(64)

    def make():
        torch.manual_seed(1)
        return nn.Linear(2, 3)

    reference = make()
    fit(reference, (x, y), nn.CrossEntropyLoss(), epochs=2, batch_size=16, progress=False)
    calls = {"n": 0}

    def poisoned(model, batch, loss_fn):  # NaN at the 2nd step of epoch 2 (4 steps per epoch)
        calls["n"] += 1
        out = model(batch[0])
        loss = loss_fn(out, batch[1])
        return (loss * float("nan") if calls["n"] == 10 else loss), out

    model = make()
    with pytest.raises(NonFiniteLossError, match="end of epoch 1") as err:
        fit(
            model,
            (x, y),
            nn.CrossEntropyLoss(),
            epochs=3,
            batch_size=16,
            progress=False,
            step_fn=poisoned,
        )
    assert all(torch.equal(reference.state_dict()[k], v) for k, v in model.state_dict().items())
    assert err.value.history["epoch"] == [0, 1] and len(err.value.history.step_loss) == 9


def test_an_exploding_loss_stops_with_a_clear_message():
    model, x, y = _trained_blob_model()
    before = _weights(model)
    adam = torch.optim.Adam(model.parameters(), lr=1e9)
    with pytest.raises(NonFiniteLossError, match="loss became|training diverged"):
        fit(model, (x, y), nn.CrossEntropyLoss(), epochs=20, optimizer=adam, progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_an_exploding_but_finite_loss_is_caught():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    x = torch.linspace(-1, 1, 64)[:, None]

    def growing(model, batch, loss_fn):  # finite, but a million times the first loss by step 3
        growing.k += 1
        out = model(batch[0])
        return F_mse(out, batch[0]) * 0 + 10.0 ** (3 * growing.k), out

    growing.k = 0
    F_mse = nn.functional.mse_loss
    with pytest.raises(NonFiniteLossError, match="loss grew from 1000 to 1e\\+12"):
        fit(model, x, None, epochs=1, batch_size=8, step_fn=growing, progress=False)


def test_interrupting_fit_keeps_the_history_and_leaves_eval_mode(capsys):
    import course_lib.train as train

    x, y = _blobs(64)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 3))

    def stop_button(info):
        if info["step"] == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(
            model,
            (x, y),
            nn.CrossEntropyLoss(),
            epochs=5,
            batch_size=16,
            callbacks=[stop_button],
            progress=False,
        )
    assert not model.training
    assert len(train.last_history().step_loss) == 6 and train.last_history()["epoch"] == [0]
    assert "training interrupted at epoch 1" in capsys.readouterr().err


def test_an_elementwise_loss_refuses_shapes_that_would_broadcast():
    x = torch.randn(32, 3)
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match=r"output has shape \(8, 1\) and the target \(8,\)"):
        fit(model, (x, x.sum(1)), nn.MSELoss(), batch_size=8, progress=False)
    with pytest.raises(ValueError, match="broadcast"):
        fit(model, (x, x.sum(1)), nn.functional.mse_loss, batch_size=8, progress=False)
    fit(model, (x, x.sum(1, keepdim=True)), nn.MSELoss(), batch_size=8, progress=False)
    # cross-entropy compares (B, C) logits with (B,) labels: different shapes are right there
    fit(nn.Linear(3, 4), (x, torch.randint(0, 4, (32,))), nn.CrossEntropyLoss(), progress=False)


def test_a_model_without_parameters_is_a_clear_error():
    with pytest.raises(ValueError, match="Flatten has none"):
        fit(nn.Flatten(), torch.randn(4, 2), nn.MSELoss(), progress=False)
    with pytest.raises(ValueError, match="predict\\(\\) needs a model with parameters"):
        predict(nn.Flatten(), torch.randn(4, 2))


# ----------------------------------------------------------------------------- the loop's pieces and options
def _explicit_loop(model, x, steps, batch_size, lr, decay, clip):
    """The loop the pretrain recipes used to write out (nanoGPT style): the reference for fit(steps=...)."""
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        batch = x[torch.randint(0, len(x), (batch_size,), generator=g)]
        noise = torch.randn(batch.shape, generator=g)  # the step draws from the same generator
        loss = nn.functional.mse_loss(model(batch + noise), batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        losses.append(loss.item())
    return ema, losses


def test_fit_by_steps_equals_the_explicit_loop_bit_for_bit():
    """Scheduler, clipping, EMA and a generator shared with the step: the same weights as the loop
    written out by hand, so recipes moved onto fit() rebuild the same checkpoints."""
    x = torch.rand(200, 6)

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 6))

    reference = make()
    ref_ema, ref_losses = _explicit_loop(reference, x, 30, 16, 1e-2, 0.9, 0.5)

    model = make()
    ema = EMA(model, 0.9)
    g = torch.Generator().manual_seed(0)

    def noisy_step(net, batch, loss_fn):
        noise = torch.randn(batch[0].shape, generator=g)
        return nn.functional.mse_loss(net(batch[0] + noise), batch[0]), None

    history = fit(
        model,
        x,
        None,
        steps=30,
        batch_size=16,
        lr=1e-2,
        generator=g,
        step_fn=noisy_step,
        scheduler=lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=1e-2, total_steps=30, pct_start=0.1
        ),
        clip_grad=0.5,
        ema=ema,
        log_every=7,
        progress=False,
    )
    assert history.step_loss == ref_losses
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), reference.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(ema.module.parameters(), ref_ema.parameters()))
    # 30 steps logged in rounds of 7: 7, 7, 7, 7, 2
    assert history["epoch"] == [0, 1, 2, 3, 4] and len(history["train_loss"]) == 5


def test_fit_by_steps_draws_random_batches_and_takes_its_own_batches():
    x, y = _blobs(100)
    sizes = []
    model = nn.Linear(2, 3)
    history = fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        steps=13,
        batch_size=8,
        progress=False,
        callbacks=[lambda info: sizes.append(info["step"])],
    )
    assert len(history.step_loss) == 13 and sizes == list(range(1, 14))
    assert len(history["train_loss"]) == 7  # default: rounds of ceil(13 / 10) = 2 steps

    def batches():
        while True:
            yield x[:10], y[:10]

    history = fit(
        model, None, nn.CrossEntropyLoss(), steps=4, batches=batches(), progress=False, log_every=4
    )
    assert len(history.step_loss) == 4 and history["epoch"] == [0]
    with pytest.raises(TypeError, match="batches must yield a tensor or a tuple of tensors"):
        fit(model, None, nn.CrossEntropyLoss(), steps=2, batches=iter([1, 2]), progress=False)


def test_the_scheduler_steps_once_per_optimizer_step():
    x, y = _blobs(64)
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5**k)
    fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        epochs=2,
        batch_size=16,
        optimizer=opt,
        scheduler=sched,
        progress=False,
    )
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5**8)  # 2 epochs of 4 steps


def test_gradient_clipping_bounds_each_update():
    x = torch.randn(32, 3) * 100  # huge inputs: huge gradients
    model = nn.Linear(3, 1)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    fit(
        model,
        (x, x.sum(1, keepdim=True)),
        nn.MSELoss(),
        epochs=1,
        batch_size=32,
        optimizer=opt,
        clip_grad=0.25,
        progress=False,
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm().item() == pytest.approx(
        0.25, rel=1e-4
    )  # SGD lr 1: step = gradient


def test_ema_is_the_running_average_of_the_weights():
    x, y = _blobs(48)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 5), nn.BatchNorm1d(5), nn.Linear(5, 3))
    ema = EMA(model, 0.8)
    expected = [p.detach().clone() for p in model.parameters()]

    def follow(info):
        for e, p in zip(expected, info["model"].parameters()):
            e.mul_(0.8).add_(p.detach(), alpha=0.2)

    fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        epochs=2,
        batch_size=16,
        ema=ema,
        callbacks=[follow],
        progress=False,
    )
    assert all(torch.allclose(e, a, atol=1e-7) for e, a in zip(expected, ema.module.parameters()))
    assert torch.equal(ema.module[1].running_mean, model[1].running_mean), "buffers are copied"
    assert not any(p.requires_grad for p in ema.module.parameters())
    with pytest.raises(ValueError, match="decay must be between 0 and 1"):
        EMA(model, 1.5)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 2, "steps": 5}, ValueError, "not both"),
        ({"steps": 0}, ValueError, "steps must be a positive int"),
        ({"batches": iter([])}, ValueError, "give steps= as well"),
        ({"clip_grad": -1.0}, ValueError, "clip_grad must be a positive number"),
        ({"ema": 0.99}, TypeError, "ema must be an EMA"),
        ({"steps": 4, "log_every": 0}, ValueError, "log_every"),
    ],
)
def test_fit_refuses_unclear_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        fit(nn.Linear(2, 3), _blobs(10), nn.CrossEntropyLoss(), progress=False, **kwargs)


def test_one_snapshot_restores_weights_optimizer_scheduler_and_generator_any_number_of_times():
    model = nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    g = torch.Generator().manual_seed(3)
    model(torch.randn(4, 2)).sum().backward()
    opt.step()
    snap = Snapshot([model], [opt], [sched], [g], when="here")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    draw = torch.rand(3, generator=g)
    for _ in range(2):  # train on, restore; twice from the same snapshot
        for _ in range(3):
            opt.zero_grad()
            model(torch.randn(4, 2)).sum().backward()
            opt.step()
            sched.step()
        torch.rand(5, generator=g)
        snap.restore()
        assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
        assert opt.param_groups[0]["lr"] == 0.1 and sched.last_epoch == 0
        assert torch.equal(torch.rand(3, generator=g), draw)
        g.set_state(snap.rng_states[0])


def test_the_loss_guard_restores_then_names_the_place():
    model = nn.Linear(2, 2)
    snap = Snapshot([model], when="the start")
    guard = LossGuard(snap)
    guard.check(2.0, "step 0")
    with torch.no_grad():
        model.weight.fill_(7.0)
    with pytest.raises(
        NonFiniteLossError, match="loss became nan at step 1.*restored to the start"
    ):
        guard.check(float("nan"), "step 1")
    assert not torch.equal(model.weight, torch.full((2, 2), 7.0))
    with pytest.raises(NonFiniteLossError, match="loss grew from 2 to 3e\\+06 at step 2"):
        guard.check(3e6, "step 2")


# ----------------------------------------------------------------------------- training never loses work (issue 37)
@pytest.mark.parametrize("blow_up_at", range(1, 9))
def test_full_batch_divergence_at_any_step_goes_back_to_weights_with_a_finite_loss(blow_up_at):
    """Full-batch training: every epoch ends right after an update, so the epoch's snapshot holds
    weights no loss has seen yet. Whichever step the weights blow up after, fit goes back to the
    last weights whose loss was finite - never to the diverged ones."""
    x, y = _blobs(300)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    fit(model, (x, y), nn.CrossEntropyLoss(), epochs=30, lr=1e-2, batch_size=300, progress=False)
    trained = accuracy(predict(model, x), y)
    seen = {}

    def record(info):  # the weights each loss was computed on, before the update that follows
        seen[info["step"]] = {k: v.clone() for k, v in info["model"].state_dict().items()}

    def blow_up(info):
        if info["step"] == blow_up_at:
            with torch.no_grad():
                info["model"][0].weight.mul_(1e20)  # finite, but every later loss explodes

    weights_before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(NonFiniteLossError):
        fit(
            model,
            (x, y),
            nn.CrossEntropyLoss(),
            epochs=10,
            lr=1e-2,
            batch_size=300,
            progress=False,
            step_fn=_recording_step(seen, weights_before),
            callbacks=[blow_up],
        )
    good = seen[blow_up_at]  # the weights the last finite loss was computed on
    assert all(torch.equal(good[k], v) for k, v in model.state_dict().items())
    assert accuracy(predict(model, x), y) >= trained - 0.02


def _recording_step(seen, start):
    """A default step that records, before each loss, the weights it is computed on (step -> state)."""
    calls = {"n": 0}

    def step(model, batch, loss_fn):
        seen[calls["n"] + 1] = {k: v.clone() for k, v in model.state_dict().items()}
        calls["n"] += 1
        out = model(batch[0])
        return loss_fn(out, batch[1]), out

    return step


def test_weights_that_turn_nan_with_finite_losses_are_never_kept():
    x, y = _blobs(64)
    model = nn.Linear(2, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def poison(info):
        if info["step"] == 4:  # the last step of epoch 0: its snapshot must not take these
            with torch.no_grad():
                info["model"].bias.fill_(float("nan"))

    with pytest.raises(NonFiniteLossError, match="weights became NaN or inf"):
        fit(
            model,
            (x, y),
            nn.CrossEntropyLoss(),
            epochs=3,
            batch_size=16,
            progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
            callbacks=[poison],
        )
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_bad_data_is_named_not_the_learning_rate():
    x = torch.randn(64, 2)
    x[17] = 3e30  # finite, but its squared error overflows to inf
    model = nn.Linear(2, 1)
    with pytest.raises(NonFiniteLossError, match=r"rows \[17\] of train_data hold finite but huge"):
        fit(
            model,
            (x, x.sum(1, keepdim=True)),
            nn.MSELoss(),
            epochs=1,
            batch_size=64,
            progress=False,
        )
    with pytest.raises(NonFiniteLossError) as err:  # inf on the very first batch, inputs normal
        fit(
            nn.Linear(2, 1),
            torch.randn(16, 2),
            None,
            progress=False,
            step_fn=lambda m, b, _: (m(b[0]).sum() * float("inf"), None),
        )
    assert "first batch, before any update" in str(err.value)
    assert "learning rate is not the cause" in str(err.value)


def test_a_learning_rate_that_learns_nothing_is_said():
    x, y = _blobs(400)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
    with pytest.warns(RuntimeWarning, match="did not fall") as caught:
        history = fit(
            model, (x, y), nn.CrossEntropyLoss(), epochs=8, lr=10.0, batch_size=32, progress=False
        )
    assert history.stalled and "learning rate (here 10)" in str(caught[0].message)
    torch.manual_seed(0)
    fine = fit(nn.Linear(2, 3), (x, y), nn.CrossEntropyLoss(), epochs=8, lr=1e-2, progress=False)
    assert not fine.stalled


def test_batch_norm_never_gets_a_last_batch_of_one_row():
    from course_lib.models import deep_mlp

    x = torch.randn(1438, 1, 8, 8)
    y = torch.randint(0, 10, (1438,))
    model = deep_mlp(batch_norm=True)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), epochs=1, batch_size=1437, progress=False)
    assert len(history.step_loss) == 1, "the single last row joined the batch before it"
    plain = fit(
        nn.Linear(64, 10),
        (x.flatten(1), y),
        nn.CrossEntropyLoss(),
        epochs=1,
        batch_size=1437,
        progress=False,
    )
    assert len(plain.step_loss) == 2
    with pytest.raises(ValueError, match="batch norm, which cannot normalise a batch of one row"):
        fit(deep_mlp(batch_norm=True), (x, y), nn.CrossEntropyLoss(), batch_size=1, progress=False)
