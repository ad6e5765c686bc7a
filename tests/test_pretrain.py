import pytest

from course_lib import checkpoints, pretrain


def test_pretrain_rebuilds_a_verifiable_checkpoint(tmp_path):
    metrics = pretrain.RECIPES["digits_mlp"](data_dir=tmp_path, quick=True)
    entry = checkpoints.verify("digits_mlp", data_dir=tmp_path)
    assert entry["metrics"] == metrics and 0.0 <= metrics["test_acc"] <= 1.0
    model = checkpoints.load_checkpoint("digits_mlp", pretrain_model_class(), data_dir=tmp_path)
    assert sum(p.numel() for p in model.parameters()) > 0


def pretrain_model_class():
    from course_lib.models import MLPClassifier

    return MLPClassifier


def test_cli_lists_and_rejects_unknown_names(capsys):
    assert pretrain.main(["--list"]) == 0
    assert "digits_mlp" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        pretrain.main(["no_such_model"])
    assert "unknown checkpoint" in capsys.readouterr().err


def test_an_unwritable_data_folder_is_found_before_any_training(tmp_path, capsys):
    """Checked first, so a 26-minute DCGAN run is not lost at its end (a file where the folder should
    be: the tests may run as root, for whom permissions do not stop a write)."""
    from course_lib.pretrain import check_writable

    blocked = tmp_path / "data"
    blocked.write_text("a file, not a folder")
    with pytest.raises(PermissionError, match="nothing was trained.*COURSE_DATA_DIR=DIR"):
        check_writable(blocked)
    assert check_writable(tmp_path / "fine") == tmp_path / "fine" / "checkpoints"


def test_trained_weights_survive_a_failed_save(tmp_path, monkeypatch, capsys):
    import torch

    from course_lib import pretrain

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pretrain, "save_checkpoint", disk_full)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(OSError, match="the trained weights are safe in (.*)\\.pt") as err:
        pretrain.RECIPES["digits_mlp"](data_dir=tmp_path, quick=True)
    rescued = next((tmp_path.glob("cache/dl-course/rescued/digits_mlp-*.pt")), None) or next(
        __import__("pathlib").Path(__import__("tempfile").gettempdir()).glob("digits_mlp-*.pt")
    )
    state = torch.load(rescued, weights_only=True)
    assert "net.0.weight" in state or any(k.endswith("weight") for k in state)
    assert str(rescued) in str(err.value) and str(rescued) in capsys.readouterr().err
