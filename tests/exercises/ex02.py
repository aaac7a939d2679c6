"""Notebook 02's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("02-1", says="The initial weights change, so the scores and the share of clipped scores change too; the "
                       "parameter count stays 7,850, the check against `models.build_model` still passes, and the "
                       "untrained loss stays near ln 10",
          parameters={"seed": 1},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: seed 1: untrained loss 2.264, 57.1 % of the scores clipped (seed 0: 45.1 %); 7,850 '
          'parameters, the check passes'))
def another_seed(seed, model, mnist, dev, models, torch, F):
    import math

    x8, y8 = mnist.val.x[:8], mnist.val.y[:8]
    seed_0 = models.build_model("seed_linear", 0).to(dev)
    with torch.no_grad():
        untrained_loss = F.cross_entropy(model(x8), y8).item()
        clipped_now = (model[0](mnist.val.x[:1000]) < 0).float().mean().item()
        clipped_seed_0 = (seed_0[0](mnist.val.x[:1000]) < 0).float().mean().item()
    print(f"seed {seed}: untrained loss {untrained_loss:.3f}, {clipped_now:.1%} of the scores clipped "
          f"(seed 0: {clipped_seed_0:.1%})")
    # check
    assert seed == 1 and sum(p.numel() for p in model.parameters()) == 7850
    with torch.no_grad():
        assert not torch.equal(model(x8), seed_0(x8))
    assert clipped_now != clipped_seed_0
    assert abs(untrained_loss - math.log(10)) < 0.1, untrained_loss


@exercise("02-2", says="You will see `False`, because each build draws new random numbers, then `True`.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: False, then True'))
def without_the_seed(nn, torch, seed):
    a, b = nn.Sequential(nn.Linear(784, 10), nn.ReLU()), nn.Sequential(nn.Linear(784, 10), nn.ReLU())
    print(torch.equal(a[0].weight, b[0].weight))
    unseeded = torch.equal(a[0].weight, b[0].weight)
    torch.manual_seed(seed)
    a = nn.Sequential(nn.Linear(784, 10), nn.ReLU())
    torch.manual_seed(seed)
    b = nn.Sequential(nn.Linear(784, 10), nn.ReLU())
    print(torch.equal(a[0].weight, b[0].weight))
    # check
    assert unseeded is False and torch.equal(a[0].weight, b[0].weight)


@exercise("02-3", says="You will see 50890 parameters, weights and biases (784 · 64 + 64 in the first layer, "
                       "64 · 10 + 10 in the second), and (8, 10): still one row of ten scores per digit.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: 50890 (8, 10)'))
def a_hidden_layer_as_a_class(nn, torch, dev, mnist):
    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.second = nn.Linear(784, 64), nn.Linear(64, 10)

        def forward(self, x):
            return self.second(torch.relu(self.first(x)))

    hidden = Hidden().to(dev)
    print(sum(p.numel() for p in hidden.parameters()), tuple(hidden(mnist.val.x[:8]).shape))
    # check
    assert sum(p.numel() for p in hidden.parameters()) == 50_890 == 784 * 64 + 64 + 64 * 10 + 10
    assert tuple(hidden(mnist.val.x[:8]).shape) == (8, 10)


@exercise("02-4", says="You will see `True`. A bias is a weight on an input that is always 1",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: True'))
def the_bias_gradient(torch, p, y, F, softmax_model):
    print(torch.allclose((p - F.one_hot(y, 10).float()).mean(0), softmax_model[0].bias.grad, atol=1e-6))
    # check
    assert torch.allclose((p - F.one_hot(y, 10).float()).mean(0), softmax_model[0].bias.grad, atol=1e-6)
