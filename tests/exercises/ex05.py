"""Notebook 05's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("05-1", says="Moved by 3 or 4 pixels, the CNN trained without shifts makes more mistakes than the one "
                       "trained with them: that is what the shifts buy.",
          parameters={"model_names": ["cnn"]},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: moved by 0/1/2/3/4 pixels: 0.43/0.50/0.59/1.32/5.75 % trained with shifts, '
          '0.47/0.97/4.33/23.09/56.12 % without'))
def what_the_shifts_buy(training, models, mnist, recipe, seed, torch, dev, data, evaluation, results):
    from dataclasses import replace

    unshifted = training.Trainer(models.build_model("cnn", seed), mnist, replace(recipe, shift=0), seed=seed)
    unshifted.fit()
    moved_errors = {}
    for k in (0, 1, 2, 3, 4):
        offsets = torch.tensor([[k, k]], device=dev).expand(len(mnist.val), 2)
        moved = data.Split(data.shift_images(mnist.val.x, offsets, max(k, 1)), mnist.val.y)
        errors = [evaluation.evaluate(net, moved)[1].item() for net in (results["cnn"].model, unshifted.model)]
        print(f"moved by {k}: {errors[0]:6.2f} % trained with shifts, {errors[1]:6.2f} % without")
        moved_errors[k] = errors
    # check
    assert all(moved_errors[k][1] > moved_errors[k][0] for k in (3, 4)), moved_errors


@exercise("05-2", says="The first panel shows the new digit, white on black as the tensors hold it, and the cell "
                       "prints the same shape, (1, 16, 28, 28): sixteen new maps, one per filter.",
          parameters={"model_names": ["cnn"]},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: (1, 16, 28, 28), the second validation digit (a 2) drawn white on black'))
def another_digits_feature_maps(mnist, torch, trained, draw_maps):
    digit = mnist.val.x[1:2]
    with torch.no_grad():
        maps = trained[:4](digit)
    print("feature maps of one validation digit:", tuple(maps.shape))
    fig = draw_maps(digit, maps[0], title="cnn: the first convolution's 16 feature maps")
    # check
    assert tuple(maps.shape) == (1, 16, 28, 28)
    shown = fig.axes[0].get_images()[0]
    assert fig.axes[0].get_title() == "input"
    assert (shown.get_array() == digit.cpu().reshape(28, 28).numpy()).all()
    assert tuple(shown.to_rgba(0.0)[:3]) == (0, 0, 0)  # background black, ink white
    assert tuple(shown.to_rgba(float(digit.max()))[:3]) == (1, 1, 1)


@exercise("05-3", says="You will see 32 channels after the first block, the same shapes as the CNN's from the "
                       "second block on, and 103,466 parameters instead of the CNN's 98,682.",
          parameters={"model_names": ["cnn"]},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          "2026-12-03: (128, 32, 14, 14) after the first block, the CNN's shapes from the second block on, "
          '103,466 parameters'))
def a_wider_cnn(nn, conv_block, dev, mnist, torch, cnn):
    wide = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        *conv_block(1, 32), *conv_block(32, 32), *conv_block(32, 64),
        nn.Flatten(),
        nn.Linear(64 * 3 * 3, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Linear(128, 10),
    ).to(dev)
    x = mnist.train.x[:128]
    with torch.no_grad():
        for layer in wide.eval():
            x = layer(x)
            print(f"  {str(layer):<78} -> {tuple(x.shape)}")
    print(f"{sum(p.numel() for p in wide.parameters()):,} parameters")
    # check
    shapes = {}
    for name, net in (("cnn", cnn.to(dev).eval()), ("wide", wide)):
        x = mnist.train.x[:128]
        with torch.no_grad():
            for k, layer in enumerate(net):
                x = layer(x)
                shapes[name, k] = tuple(x.shape)
    assert shapes["wide", 4] == (128, 32, 14, 14) and shapes["cnn", 4] == (128, 16, 14, 14)
    assert all(shapes["wide", k] == shapes["cnn", k] for k in range(8, len(cnn)))
    assert sum(p.numel() for p in wide.parameters()) == 103_466 and sum(p.numel() for p in cnn.parameters()) == 98_682
