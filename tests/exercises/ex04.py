"""Notebook 04's exercises (see tests/test_learners_path.py)."""

EXERCISES = [
    dict(id="04-1",
         says="the first cell names a different run id and its recipe shows lr 0.05",
         parameters={},
         code="""other = training.train(training.RunConfig(model=model, lr=0.05, seed=seed, smoke=smoke), data=mnist,
                       artifacts_dir=artifacts, device=dev)
again = training.load_run(artifacts, model, data_dir=data_dir, device=dev)  # section 1, run again""",
         check="assert again.metrics['run_id'] == other.metrics['run_id'] != m['run_id']\n"
               "assert again.metrics['lr'] == 0.05"),
    dict(id="04-2",
         says="its validation error lands within a point of the post's 7.43 %",
         parameters={"model": "softmax"},
         smoke=False,  # one point is a statement about the full recipe; 25 epochs of softmax take seconds
         code="",
         check="assert m['model'] == 'softmax' and not m['smoke'] and abs(m['val_error'] - 7.43) < 1.0"),
    dict(id="04-3",
         says="Its total equals the number of misclassified digits printed in section 5",
         parameters={},
         code="per_digit = mistakes.sum(1)",
         check="assert int(per_digit.sum()) == len(wrong) and len(wrong) > 0"),
]
