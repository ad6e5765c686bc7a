import torch

from course_lib import check


def reference(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


def test_accuracy_checker_accepts_the_reference():
    result = check.accuracy(reference)
    assert result and result.passed
    assert "PASS" in repr(result) and "passed" in result._repr_html_()


def test_accuracy_checker_accepts_a_tensor_answer():
    assert check.accuracy(lambda lg, lb: (lg.argmax(1) == lb).float().mean())


def test_accuracy_checker_names_typical_mistakes():
    cases = {
        "forget `return`": lambda lg, lb: None,
        "percentage": lambda lg, lb: 100 * reference(lg, lb),
        "number of correct rows": lambda lg, lb: (lg.argmax(1) == lb).sum().item(),
        "argmax(dim=1)": lambda lg, lb: (lg.argmin(1) == lb).float().mean().item(),
        "single number": lambda lg, lb: (lg.argmax(1) == lb).float(),
    }
    for hint, answer in cases.items():
        result = check.accuracy(answer)
        assert not result, hint
        assert hint in result.message, (hint, result.message)


def test_student_exceptions_become_hints_not_tracebacks():
    def broken(logits, labels):
        return (logits.argmax(dim=0) == labels).float().mean().item()  # shapes do not broadcast

    result = check.accuracy(broken)
    assert not result
    assert "raised RuntimeError" in result.message and "argmax(dim=0)" in result.message
    assert not check.accuracy("not a function")
    assert "expected a function" in check.accuracy(42).message


def test_an_answer_that_changes_its_inputs_in_place_is_named():
    def mutating(logits, labels):
        value = reference(logits, labels)
        logits.zero_()
        return value

    result = check.accuracy(mutating)
    assert not result and "changes its input `logits` in place" in result.message


def test_no_checker_changes_the_callers_random_state():
    """The notebook's random numbers after a check are those it would have drawn without it - for every
    checker, with a right and a wrong answer (copy_blocks builds networks; freeze draws nothing)."""
    import random

    import numpy as np
    from test_check_hints import ROWS

    for name, answer, _ in ROWS:
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        getattr(check, name)(answer)
        after = (torch.rand(3), np.random.rand(3), random.random())
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        assert torch.equal(after[0], torch.rand(3)), f"{name} changed torch's random state"
        assert np.array_equal(after[1], np.random.rand(3)), f"{name} changed numpy's random state"
        assert after[2] == random.random(), f"{name} changed python's random state"


def test_a_hint_shows_the_students_line_not_torchs():
    def broken(logits, labels):
        wrong = logits @ labels  # a matmul of (B, C) with (B,): torch raises inside
        return wrong.mean()

    result = check.accuracy(broken)
    assert "raised RuntimeError" in result.message and "wrong = logits @ labels" in result.message


def test_a_fresh_probe_of_wrong_answers_finds_no_false_accept_and_no_misleading_hint():
    """bench/checker_probe.py: answers the hint tables never saw, of the families a probe of new users
    found (detached losses, in-place inputs, reseeding, hard-coded sizes, ignored arguments, sum for
    mean, log for exp): every right one passes, every wrong one fails with a hint naming its mistake."""
    from bench.checker_probe import run_probe

    out = run_probe()
    assert out["misses"] == [], out["misses"]
    assert out["counts"]["wrong answers"] >= 30 and out["counts"]["right answers"] >= 10
