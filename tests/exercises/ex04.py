"""Notebook 04's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("04-1", says="section 1 names a different run id and its recipe shows lr 0.05, and every figure below is "
                       "that run's.",
          measured="")
def plot_another_run(training, model, seed, smoke, mnist, artifacts, dev, data_dir, m):
    other = training.train(training.RunConfig(model=model, lr=0.05, seed=seed, smoke=smoke), data=mnist,
                           artifacts_dir=artifacts, device=dev)
    again = training.load_run(artifacts, model, data_dir=data_dir, device=dev)  # section 1's cell, run again
    print(f"plotting run {again.metrics['run_id']} of {model}, lr {again.metrics['lr']}")
    # check
    assert again.metrics["run_id"] == other.metrics["run_id"] != m["run_id"]
    assert again.metrics["lr"] == 0.05


@exercise("04-2", says="its validation error lands within a point of the post's 7.43 %",
          parameters={"model": "softmax"}, smoke=False,  # a statement about the full recipe, which takes seconds
          measured="")
def another_model(m):
    print(f"{m['model']}: {m['val_error']:.2f} %")
    # check
    assert m["model"] == "softmax" and not m["smoke"] and abs(m["val_error"] - 7.43) < 1.0


@exercise("04-3", says="Its total equals the number of misclassified digits printed in section 5",
          measured="")
def the_hardest_digit(mistakes, wrong):
    per_digit = mistakes.sum(1)
    print(per_digit.tolist(), int(per_digit.sum()), int(per_digit.argmax()))
    # check
    assert int(per_digit.sum()) == len(wrong) and len(wrong) > 0
