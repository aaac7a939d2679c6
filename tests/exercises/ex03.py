"""Notebook 03's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("03-1", says="The validation error in section 5 ends several times higher than the post's 7.43 %, and "
                       "section 6 lists digits the model never predicts",
          parameters={"lr": 0.5},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: seed_linear at lr 0.5: 43.44 % (5.8 times 7.43 %), never predicts [3, 4, 8, 9]; '
          'softmax at lr 0.5: 8.36 %, every digit predicted'))
def kill_a_class(never, metrics, training, evaluation, mnist, artifacts, dev, seed, smoke):
    # CI's stand-in for the second run of the notebook with model = "softmax" and the same lr:
    softmax_run = training.train(training.RunConfig(model="softmax", lr=0.5, seed=seed, smoke=smoke), data=mnist,
                                 artifacts_dir=artifacts, device=dev)
    softmax_never = (evaluation.predict(softmax_run.model, mnist.val).bincount(minlength=10) == 0).nonzero().tolist()
    print(f"seed_linear, lr 0.5: {metrics['val_error']:.2f} %, never predicts {never}; "
          f"softmax, lr 0.5: {softmax_run.metrics['val_error']:.2f} %, never predicts {softmax_never or 'none'}")
    # check
    assert never and metrics["val_error"] > 3 * 7.43 and softmax_never == [], (never, softmax_never)


@exercise("03-2", says="the check of section 4 still passes: your loop and the trainer agree for another seed too.",
          parameters={"seed": 1},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: seed 1: your loop 7.29 %, the trainer 7.29 %; the check passes'))
def another_seed(config, loop_config, metrics, final_error):
    print(f"seed {metrics['seed']}: your loop {final_error:.2f} %, the trainer {metrics['val_error']:.2f} %")
    # check
    assert metrics["seed"] == 1 and config == loop_config
    assert abs(final_error - metrics["val_error"]) < 0.05


@exercise("03-3", says="Run the cell of section 4 again: it prints `Resuming from` that checkpoint and ends with "
                       "the same numbers as an uninterrupted run.",
          parameters={"model": "cnn"}, smoke=False,  # one epoch at smoke size: nothing to stop in between
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          "2026-12-03: stopped after epoch 7 (step 3,283), the rerun prints 'Resuming from ... (epoch 7/8, "
          "step 3,283)' and ends with the uninterrupted run's validation errors and training error"))
def interrupt_and_resume(config, metrics, training, mnist, artifacts, dev):
    import contextlib
    import io

    from helpers import runs

    save = runs.RunFolder.save

    def save_then_stop(folder, checkpoint):  # CI's stand-in for the stop button, pressed during the 8th epoch
        save(folder, checkpoint)
        if checkpoint["epoch"] == 7:
            raise KeyboardInterrupt

    runs.RunFolder.save = save_then_stop
    try:
        training.train(config, data=mnist, artifacts_dir=artifacts, device=dev, resume=False)  # moves the run aside
    except KeyboardInterrupt:
        pass
    finally:
        runs.RunFolder.save = save
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):  # running the cell of section 4 again
        resumed = training.train(config, data=mnist, artifacts_dir=artifacts, device=dev)
    print(shown.getvalue())
    # check
    assert "Resuming from" in shown.getvalue() and "(epoch 7/8" in shown.getvalue(), shown.getvalue()
    assert resumed.metrics["history"]["val"]["error"] == metrics["history"]["val"]["error"]
    assert resumed.metrics["train_error"] == metrics["train_error"]
