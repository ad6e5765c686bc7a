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
