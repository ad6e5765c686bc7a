import random

import numpy as np
import pytest
import torch

import course_lib as cl


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    cl.seed_everything(5)
    first = draw()
    cl.seed_everything(5)
    assert draw() == first
    cl.seed_everything(6)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        cl.seed_everything(bad)


def test_get_device_defaults_and_overrides(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if cl._mps_available() else "cpu")
    assert cl.get_device().type == expected
    assert cl.get_device("cpu").type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert cl.get_device().type == "cpu"
    with pytest.raises(ValueError, match="one of"):
        cl.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            cl.get_device("cuda")


def test_submodules_load_on_first_use():
    assert cl.data.make_toy2d is not None and cl.models.MLPClassifier is not None
    with pytest.raises(AttributeError):
        getattr(cl, "not_a_module")  # noqa: B009 (the lazy __getattr__ is what is tested)


def test_environment_report_names_versions():
    report = cl.environment_report()
    assert report["torch"].startswith("2.13")
    assert report["device"] in ("cpu", "cuda", "mps")
