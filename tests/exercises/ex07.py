"""Notebook 07's exercises: each runs in the kernel after the notebook finished in smoke mode (with
``parameters`` on top), then ``check`` asserts what the notebook's *Try it* says the learner will see."""

EXERCISES = [
    dict(
        id="07-1",
        says="The numbers stay rung 3's, to the last digit; only the time changes.",
        parameters={},
        code='''
def rung_3(net, steps):
    order = torch.randperm(len(mnist.train), generator=torch.Generator().manual_seed(seed)).to(dev)
    xs, ys = mnist.train.x[order], mnist.train.y[order]
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    losses, hits = [], []
    out = {k: [] for k in ("val_step", "val_loss", "val_error")}
    for step in range(steps):
        x, y = xs[step * batch_size : (step + 1) * batch_size], ys[step * batch_size : (step + 1) * batch_size]
        optimizer.zero_grad()
        scores = net(x)
        loss = F.cross_entropy(scores, y)
        loss.backward()
        losses.append(torch.tensor(loss.item(), device=dev))  # a host sync again
        hits.append(torch.tensor((scores.argmax(1) == y).sum().item(), device=dev))  # and another
        if step % eval_every == 0:
            val_loss, val_error = validate_slices(net)
            out["val_step"].append(step)
            out["val_loss"].append(val_loss)
            out["val_error"].append(val_error)
        optimizer.step()
    sizes = torch.full((steps,), batch_size, dtype=torch.float64, device=dev)
    out["train_loss"], out["train_error"] = cumulative(losses, hits, sizes)
    out["final_val_error"] = validate_slices(net)[1]
    return out


climb("3+item", "rung 3 with .item()", rung_3, since="3")
''',
        check='''
for key in ("train_loss", "train_error", "val_step", "val_loss", "val_error", "final_val_error"):
    assert torch.equal(ladder["3+item"][key], ladder["3"][key]), key
assert ladder["3+item"]["seconds"] > 0
''',
    ),
    dict(
        id="07-2",
        says="An epoch at batch 128 takes less than three quarters of the time of an epoch at batch 32.",
        parameters={},
        code='''
def epoch_time(size, repeats=5):
    # The best of a few timings of one epoch of rung 6 at batch `size` (the best: the machine may be busy).
    global batch_size
    batch_size = size
    rung_6(fresh_model(), 5)  # warm-up
    times = []
    for _ in range(repeats):
        net = fresh_model()
        sync()
        start = time.perf_counter()
        out = rung_6(net, len(mnist.train) // size)
        sync()
        times.append(time.perf_counter() - start)
    batch_size = 32
    return min(times), out


seconds_128, out_128 = epoch_time(128)
seconds_32, out_32 = epoch_time(32)
print(f"one epoch at batch 128: {seconds_128:.3f} s, at batch 32: {seconds_32:.3f} s")
''',
        check='''
assert seconds_128 < seconds_32 * 3 / 4, (seconds_128, seconds_32)
assert len(out_128["train_loss"]) == len(mnist.train) // 128 and len(out_32["train_loss"]) == len(mnist.train) // 32
''',
    ),
    dict(
        id="07-3",
        says="Every number changes, and every rung still agrees with the rung before it.",
        parameters={"seed": 1},
        code="",
        check='''
assert seed == 1
assert {"0", "1a", "1b", "2", "3", "4", "5", "7"} <= set(ladder)  # climb() asserted each against the one before
saved = json.loads((artifacts / "speed" / "ladder.json").read_text())
assert saved["seed"] == 1 and saved["rungs"]["0"]["train_loss"] == ladder["0"]["train_loss"].tolist()
''',
    ),
    dict(
        id="07-4",
        says="Its numbers agree with rung 6 to float rounding.",
        parameters={},
        code='''
def rung_6_on_2(net, steps):
    with cpu_threads(2):
        return rung_5(net, steps)


climb("6 on 2", "two CPU threads", rung_6_on_2, rtol=1e-5, since="6")
''',
        check='''
assert torch.allclose(ladder["6 on 2"]["train_loss"], ladder["6"]["train_loss"], rtol=1e-5, atol=1e-7)
assert torch.allclose(ladder["6 on 2"]["val_error"], ladder["6"]["val_error"], atol=1e-3)
''',
    ),
]
