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


def test_checker_is_not_fooled_by_an_answer_that_mutates_its_inputs():
    def mutating(logits, labels):
        value = reference(logits, labels)
        logits.zero_()
        return value

    assert check.accuracy(mutating)
