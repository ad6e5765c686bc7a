import json

import pytest
import torch
from torch import nn

from course_lib import checkpoints
from course_lib.checkpoints import (
    CheckpointError,
    load_checkpoint,
    load_state,
    save_checkpoint,
    verify,
)
from course_lib.models import MLPClassifier

CONFIG = {"in_features": 64, "hidden": [16], "classes": 10}


def _saved(tmp_path):
    torch.manual_seed(0)
    model = MLPClassifier(**CONFIG)
    save_checkpoint("tiny", model, config=CONFIG, data_dir=tmp_path, metrics={"acc": 0.5})
    return model


def test_round_trip_restores_weights_and_config(tmp_path):
    model = _saved(tmp_path)
    loaded = load_checkpoint("tiny", MLPClassifier, data_dir=tmp_path)
    assert not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    entry = json.loads((tmp_path / "MANIFEST.json").read_text())["checkpoints"]["tiny"]
    assert entry["config"] == CONFIG and entry["metrics"] == {"acc": 0.5}
    assert entry["bytes"] == (tmp_path / entry["file"]).stat().st_size
    x = torch.rand(3, 1, 8, 8)
    assert torch.equal(model.eval()(x), loaded(x))


def test_corruption_is_detected_and_not_loaded(tmp_path):
    _saved(tmp_path)
    path = tmp_path / "checkpoints" / "tiny.pt"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01  # flip one bit
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=r"corrupt.*python -m course_lib.pretrain tiny"):
        load_checkpoint("tiny", MLPClassifier, data_dir=tmp_path)


def test_missing_and_unknown_checkpoints_say_how_to_rebuild(tmp_path):
    with pytest.raises(CheckpointError, match=r"MANIFEST\.json is missing from the folder"):
        verify("nope", data_dir=tmp_path)
    _saved(tmp_path)
    with pytest.raises(CheckpointError, match="no checkpoint named 'nope'.*pretrain nope"):
        verify("nope", data_dir=tmp_path)
    (tmp_path / "checkpoints" / "tiny.pt").unlink()
    with pytest.raises(CheckpointError, match="missing.*pretrain tiny"):
        verify("tiny", data_dir=tmp_path)


class _Exploit:
    """Unpickling this would run code (create a file). weights_only loading must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_with_code_is_never_unpickled(tmp_path):
    _saved(tmp_path)
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoints" / "tiny.pt"
    torch.save({"weight": _Exploit(str(marker))}, path)
    # an attacker who also rewrote the manifest: the sha256 matches, the content is still refused
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    manifest["checkpoints"]["tiny"]["sha256"] = checkpoints.sha256_file(path)
    (tmp_path / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="plain tensors"):
        load_state("tiny", data_dir=tmp_path)
    assert not marker.exists(), "the pickle's code ran"


def test_checkpoint_that_does_not_fit_the_model(tmp_path):
    _saved(tmp_path)
    with pytest.raises(CheckpointError, match="does not fit MLPClassifier"):
        load_checkpoint("tiny", MLPClassifier(64, [32], 10), data_dir=tmp_path)


def test_bad_names_and_values(tmp_path):
    with pytest.raises(ValueError, match="checkpoint name"):
        save_checkpoint("../evil", {"w": torch.zeros(1)}, data_dir=tmp_path)
    with pytest.raises(TypeError, match="dict of tensors"):
        save_checkpoint("x", {"w": [1, 2]}, data_dir=tmp_path)


def test_every_shipped_checkpoint_matches_the_manifest():
    shipped = checkpoints.manifest()["checkpoints"]
    assert shipped, "data/MANIFEST.json lists the shipped checkpoints"
    for name in shipped:
        entry = verify(name)
        state, _ = load_state(name)
        assert all(isinstance(v, torch.Tensor) for v in state.values()), name
        assert entry["bytes"] < 5 * 2**20, f"{name} is over 5 MB"


def test_shipped_digits_mlp_reaches_its_recorded_accuracy():
    from course_lib.data import load_digits8
    from course_lib.train import accuracy, predict

    model = load_checkpoint("digits_mlp", MLPClassifier)
    x, y = load_digits8("test")
    recorded = checkpoints.manifest()["checkpoints"]["digits_mlp"]["metrics"]["test_acc"]
    assert accuracy(predict(model, x), y) == pytest.approx(recorded, abs=1e-3)
    assert recorded > 0.9


def _edit_manifest(tmp_path, change):
    path = tmp_path / "MANIFEST.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: [d], r"must hold a JSON object .* got a list"),
        (lambda d: {"checkpoints": [1, 2]}, r"\"checkpoints\" must be an object"),
        (
            lambda d: {"checkpoints": {"tiny": "tiny.pt"}},
            r"entry 'tiny' must be an object, got a str",
        ),
        (
            lambda d: {
                "checkpoints": {
                    "tiny": {k: v for k, v in d["checkpoints"]["tiny"].items() if k != "sha256"}
                }
            },
            r"entry 'tiny' has no valid \"sha256\".*not loaded",
        ),
        (
            lambda d: {"checkpoints": {"tiny": {**d["checkpoints"]["tiny"], "sha256": "abc"}}},
            r"entry 'tiny' has no valid \"sha256\"",
        ),
        (
            lambda d: {
                "checkpoints": {
                    "tiny": {k: v for k, v in d["checkpoints"]["tiny"].items() if k != "file"}
                }
            },
            r"entry 'tiny' has no \"file\"",
        ),
        (
            lambda d: {
                "checkpoints": {"tiny": {**d["checkpoints"]["tiny"], "file": "../../etc/passwd"}}
            },
            r"must be a path inside the data folder",
        ),
        (
            lambda d: {"checkpoints": {"tiny": {**d["checkpoints"]["tiny"], "config": [1]}}},
            r"\"config\" must be an object",
        ),
    ],
)
def test_a_malformed_manifest_names_the_file_and_the_entry(tmp_path, change, message):
    _saved(tmp_path)
    _edit_manifest(tmp_path, change)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint("tiny", MLPClassifier, data_dir=tmp_path)
    assert "MANIFEST.json" in str(err.value)


def test_a_manifest_that_is_not_text_is_a_checkpoint_error(tmp_path):
    _saved(tmp_path)
    (tmp_path / "MANIFEST.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        verify("tiny", data_dir=tmp_path)


# ----------------------------------------------------------------------------- faults (issue 37)
def _one_checkpoint(tmp_path):
    from course_lib.checkpoints import save_checkpoint

    save_checkpoint(
        "tiny", nn.Linear(2, 3), config={"in_features": 2, "out_features": 3}, data_dir=tmp_path
    )
    return tmp_path / "checkpoints" / "tiny.pt"


def test_a_symlink_out_of_the_data_folder_is_refused_before_reading(tmp_path):
    from course_lib.checkpoints import CheckpointError, load_state, verify

    path = _one_checkpoint(tmp_path)
    path.unlink()
    path.symlink_to("/dev/zero")  # would hang a sha256 or a load
    with pytest.raises(CheckpointError, match="leads outside the data folder"):
        verify("tiny", tmp_path)
    with pytest.raises(CheckpointError, match="leads outside the data folder"):
        load_state("tiny", tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.pt"
    outside.write_bytes(b"not a checkpoint")
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(CheckpointError, match="leads outside"):
        verify("tiny", tmp_path)


def test_saving_never_writes_through_a_planted_symlink(tmp_path):
    from course_lib.checkpoints import load_checkpoint, save_checkpoint

    path = _one_checkpoint(tmp_path)
    victim = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    victim.write_text("precious")
    path.unlink()
    path.symlink_to(victim)
    manifest = tmp_path / "MANIFEST.json"
    text = manifest.read_text()
    manifest.unlink()
    victim2 = tmp_path.parent / f"{tmp_path.name}-victim2.txt"
    victim2.write_text(text)
    manifest.symlink_to(victim2)
    save_checkpoint(
        "tiny", nn.Linear(2, 3), config={"in_features": 2, "out_features": 3}, data_dir=tmp_path
    )
    assert victim.read_text() == "precious" and victim2.read_text() == text
    assert not path.is_symlink() and not manifest.is_symlink()
    assert isinstance(load_checkpoint("tiny", nn.Linear, data_dir=tmp_path), nn.Linear)


def test_a_wrong_architecture_names_the_keys_and_shapes(tmp_path):
    from course_lib.checkpoints import CheckpointError, load_checkpoint

    _one_checkpoint(tmp_path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint("tiny", nn.Sequential(nn.Linear(2, 3)), data_dir=tmp_path)
    assert "missing from the file: ['0.weight', '0.bias']" in str(err.value)
    assert "not in the model: ['weight', 'bias']" in str(err.value)
    with pytest.raises(
        CheckpointError, match=r"shape \(file vs model\): \['weight \(3, 2\) vs \(4, 2\)'"
    ):
        load_checkpoint("tiny", nn.Linear(2, 4), data_dir=tmp_path)


def test_an_unreadable_data_folder_says_so_without_a_traceback(tmp_path, monkeypatch):
    """Permission errors (a folder of another user; simulated here: the tests may run as root)."""
    from pathlib import Path

    from course_lib.checkpoints import CheckpointError, load_state, manifest

    _one_checkpoint(tmp_path)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(CheckpointError, match="permission denied.*COURSE_DATA_DIR"):
        manifest(tmp_path)
    monkeypatch.undo()
    import builtins

    real_open = builtins.open
    monkeypatch.setattr(
        builtins,
        "open",
        lambda f, *a, **k: refuse(f) if str(f).endswith(".pt") else real_open(f, *a, **k),
    )
    with pytest.raises(CheckpointError, match="cannot read .*tiny.pt: permission denied"):
        load_state("tiny", tmp_path)
