"""Notebook 04's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("04-1", says="section 1 names a different run id and its recipe shows lr 0.05, and every figure below is "
                       "that run's.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: a new run id, lr 0.05'))
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
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: softmax, trained by notebook 04 itself: 7.33 %'))
def another_model(m):
    print(f"{m['model']}: {m['val_error']:.2f} %")
    # check
    assert m["model"] == "softmax" and not m["smoke"] and abs(m["val_error"] - 7.43) < 1.0


@exercise("04-3", says="Its total equals the number of misclassified digits printed in section 5",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: [18, 26, 104, 86, 65, 113, 49, 88, 87, 89], total 725 = the misclassified digits, '
          'hardest digit 5'))
def the_hardest_digit(mistakes, wrong):
    per_digit = mistakes.sum(1)
    print(per_digit.tolist(), int(per_digit.sum()), int(per_digit.argmax()))
    # check
    assert int(per_digit.sum()) == len(wrong) and len(wrong) > 0
