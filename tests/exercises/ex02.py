"""The "Try it" exercises of notebook 02, for CI: each one's change (``code``, run after the notebook) and a check
of what the notebook promises the learner will see (``says``, the same words as the notebook's Try it text)."""

EXERCISES = [
    dict(
        id="02-1",
        says="The initial weights change, so the scores and the share of clipped scores change too; the parameter "
             "count stays 7,850, the check against `models.build_model` still passes, and the untrained loss stays "
             "near ln 10",
        parameters={"seed": 1},
        code=(
            "import math\n"
            "x8, y8 = mnist.val.x[:8], mnist.val.y[:8]\n"
            "seed_0 = models.build_model('seed_linear', 0).to(dev)\n"
            "with torch.no_grad():\n"
            "    untrained_loss = F.cross_entropy(model(x8), y8).item()\n"
            "    clipped_now = (model[0](mnist.val.x[:1000]) < 0).float().mean().item()\n"
            "    clipped_seed_0 = (seed_0[0](mnist.val.x[:1000]) < 0).float().mean().item()\n"
            "print(untrained_loss, clipped_now, clipped_seed_0)"
        ),
        check=(
            "assert seed == 1 and sum(p.numel() for p in model.parameters()) == 7850\n"
            "with torch.no_grad():\n"
            "    assert not torch.equal(model(x8), seed_0(x8))\n"
            "assert clipped_now != clipped_seed_0\n"
            "assert abs(untrained_loss - math.log(10)) < 0.1, untrained_loss"
        ),
    ),
    dict(
        id="02-2",
        says="you will see `False`, because each build draws new random numbers. Call `torch.manual_seed(seed)` "
             "before each build and you will see `True`.",
        parameters={},
        code=(
            "a, b = nn.Sequential(nn.Linear(784, 10), nn.ReLU()), nn.Sequential(nn.Linear(784, 10), nn.ReLU())\n"
            "unseeded = torch.equal(a[0].weight, b[0].weight)\n"
            "torch.manual_seed(seed)\n"
            "a = nn.Sequential(nn.Linear(784, 10), nn.ReLU())\n"
            "torch.manual_seed(seed)\n"
            "b = nn.Sequential(nn.Linear(784, 10), nn.ReLU())\n"
            "seeded = torch.equal(a[0].weight, b[0].weight)\n"
            "print(unseeded, seeded)"
        ),
        check="assert unseeded is False and seeded is True",
    ),
    dict(
        id="02-3",
        says="you will see 50,890 (784 · 64 + 64 in the first layer, 64 · 10 + 10 in the second)",
        parameters={},
        code=(
            "hidden = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))\n"
            "count = sum(p.numel() for p in hidden.parameters())\n"
            "hidden = hidden.to(dev)\n"
            "with torch.no_grad():\n"
            "    out = hidden(mnist.val.x[:8])\n"
            "print(f'{count:,}', tuple(out.shape))"
        ),
        check="assert count == 50_890 == 784 * 64 + 64 + 64 * 10 + 10 and tuple(out.shape) == (8, 10)",
    ),
    dict(
        id="02-4",
        says="compare it with `softmax_model[0].bias.grad` using `torch.allclose`: you will see `True`.",
        parameters={},
        code=(
            "bias_by_hand = (p - F.one_hot(y, 10).float()).mean(0)\n"
            "same = torch.allclose(bias_by_hand, softmax_model[0].bias.grad, atol=1e-6)\n"
            "print(same)"
        ),
        check="assert same is True",
    ),
]
