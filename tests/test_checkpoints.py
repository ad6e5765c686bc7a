import json

import pytest
import torch

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
