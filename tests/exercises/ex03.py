"""Notebook 03's exercises (see tests/test_learners_path.py)."""

STOP_AFTER_FIRST_EPOCH = """
import contextlib
import io

from helpers import runs

save = runs.RunFolder.save


def save_then_stop(folder, checkpoint):  # CI's stand-in for the stop button, pressed during the second epoch
    save(folder, checkpoint)
    raise KeyboardInterrupt


runs.RunFolder.save = save_then_stop
try:
    training.train(config, data=mnist, artifacts_dir=artifacts, device=dev, resume=False)  # the old run moves aside
except KeyboardInterrupt:
    pass
finally:
    runs.RunFolder.save = save
shown = io.StringIO()
with contextlib.redirect_stdout(shown):  # running the cell of section 4 again
    resumed = training.train(config, data=mnist, artifacts_dir=artifacts, device=dev)
"""

EXERCISES = [
    dict(id="03-1",
         says="section 6 lists digits the model never predicts",
         parameters={"lr": 0.5},
         code="""softmax_run = training.train(training.RunConfig(model="softmax", lr=0.5, seed=seed, smoke=smoke),
                             data=mnist, artifacts_dir=artifacts, device=dev)
softmax_never = (evaluation.predict(softmax_run.model, mnist.val).bincount(minlength=10) == 0).nonzero().tolist()""",
         check="assert never and metrics['val_error'] > 3 * 7.43 and softmax_never == [], (never, softmax_never)"),
    dict(id="03-2",
         says="the check of section 4 still passes: your loop and the trainer agree for any seed",
         parameters={"seed": 1},
         code="",
         check="assert metrics['seed'] == 1 and config == loop_config\n"
               "assert abs(final_error - metrics['val_error']) < 0.05"),
    dict(id="03-3",
         says="it prints `Resuming from` that checkpoint and ends with the same numbers as an uninterrupted run",
         parameters={"epochs": 3},
         code=STOP_AFTER_FIRST_EPOCH,
         check="""assert "Resuming from" in shown.getvalue() and "(epoch 1/3" in shown.getvalue(), shown.getvalue()
assert resumed.metrics["history"]["val"]["error"] == metrics["history"]["val"]["error"]
assert resumed.metrics["train_error"] == metrics["train_error"]"""),
]
