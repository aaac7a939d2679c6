"""The four models: shapes, sizes, the seed model's ReLU, reproducible initialisation, recipes."""

import pytest
import torch

from helpers.models import MODELS, build_model, count_parameters


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_maps_flat_images_to_ten_scores(name):
    model = build_model(name)
    out = model(torch.rand(5, 784))
    assert out.shape == (5, 10) and out.dtype == torch.float32
    out.sum().backward()  # gradients reach every parameter
    assert all(p.grad is not None for p in model.parameters())


def test_linear_models_have_7850_parameters():
    assert count_parameters(build_model("seed_linear")) == 784 * 10 + 10
    assert count_parameters(build_model("softmax")) == 7850


def test_seed_model_clips_negative_scores_and_softmax_does_not():
    x = torch.rand(64, 784)
    seed, soft = build_model("seed_linear", seed=3), build_model("softmax", seed=3)
    assert (seed(x) >= 0).all()
    assert (soft(x) < 0).any()
    assert torch.equal(seed(x), soft(x).clamp(min=0))  # same initial weights: the ReLU is the only difference


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("cnn", seed=1)
    after = torch.rand(1)
    b = build_model("cnn", seed=1)
    c = build_model("cnn", seed=2)
    assert torch.equal(before, after)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_seed_recipe_is_the_posts():
    r = MODELS["seed_linear"].recipe
    assert (r.epochs, r.batch_size, r.lr, r.momentum, r.schedule) == (25, 32, 0.08, 0.0, "constant")
    assert (r.weight_decay, r.label_smoothing, r.shift, r.bf16) == (0.0, 0.0, 0, False)  # plain SGD, nothing else


def test_cnn_stages_halve_the_image_as_notebook_05_shows():
    x = torch.rand(4, 784)
    shapes = []
    with torch.no_grad():
        for layer in build_model("cnn").eval():
            x = layer(x)
            if isinstance(layer, torch.nn.MaxPool2d):
                shapes.append(tuple(x.shape[1:]))
    assert shapes == [(16, 14, 14), (32, 7, 7), (64, 3, 3)]
    assert x.shape == (4, 10)


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="'lenet'.*seed_linear"):
        build_model("lenet")
