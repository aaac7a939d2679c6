"""The "Try it" exercises of notebook 05, for CI: each one's change (``code``, run after the notebook) and a check
of what the notebook promises the learner will see (``says``, the same words as the notebook's Try it text)."""

EXERCISES = [
    dict(
        id="05-1",
        says="The CNN trained without shifts makes more mistakes on the moved digits: that is what the shifts buy.",
        parameters={"model_names": ["cnn"]},
        code=(
            "from dataclasses import replace\n"
            "trainer = training.Trainer(models.build_model('cnn', seed), mnist, replace(recipe, shift=0), seed=seed)\n"
            "trainer.fit()\n"
            "offsets = torch.tensor([[3, 3]], device=dev).expand(len(mnist.val), 2)\n"
            "moved = data.Split(data.shift_images(mnist.val.x, offsets, 3), mnist.val.y)\n"
            "with_shifts = evaluation.evaluate(results['cnn'].model, moved)[1].item()\n"
            "without_shifts = evaluation.evaluate(trainer.model, moved)[1].item()\n"
            "print(f'moved 3 down and 3 right: {with_shifts:.2f} % with shifts, {without_shifts:.2f} % without')"
        ),
        check="assert without_shifts > with_shifts, (without_shifts, with_shifts)",
    ),
    dict(
        id="05-2",
        says="The first panel shows the new digit, white on black as the tensors hold it, and the cell prints the "
             "same shape, (1, 16, 28, 28): sixteen new maps, one per filter.",
        parameters={"model_names": ["cnn"]},
        code=(
            "trained = results['cnn'].model.eval()\n"
            "digit = mnist.val.x[1:2]\n"
            "with torch.no_grad():\n"
            "    maps = trained[:4](digit)\n"
            "print('feature maps of one test digit:', tuple(maps.shape))\n"
            "fig = draw_maps(digit, maps[0], title='cnn: the first conv block\\'s 16 feature maps')"
        ),
        check=(
            "assert tuple(maps.shape) == (1, 16, 28, 28)\n"
            "shown = fig.axes[0].get_images()[0]\n"
            "assert fig.axes[0].get_title() == 'input'\n"
            "assert (shown.get_array() == digit.cpu().reshape(28, 28).numpy()).all()\n"
            "assert tuple(shown.to_rgba(0.0)[:3]) == (0, 0, 0)  # background black, ink white\n"
            "assert tuple(shown.to_rgba(float(digit.max()))[:3]) == (1, 1, 1)"
        ),
    ),
    dict(
        id="05-3",
        says="The shapes cell shows 32 channels after the first block and the same shapes from the second block on; "
             "the check against `models.build_model` now fails, because the models differ.",
        parameters={"model_names": ["cnn"]},
        code=(
            "with torch.random.fork_rng():\n"
            "    torch.manual_seed(seed)\n"
            "    wide = nn.Sequential(\n"
            "        nn.Unflatten(1, (1, 28, 28)),\n"
            "        *conv_block(1, 32), *conv_block(32, 32), *conv_block(32, 64),\n"
            "        nn.Flatten(),\n"
            "        nn.Linear(64 * 3 * 3, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),\n"
            "        nn.Linear(128, 10),\n"
            "    ).to(dev)\n"
            "shapes = {}\n"
            "for name, net in (('cnn', cnn.to(dev)), ('wide', wide)):\n"
            "    x = mnist.train.x[:128]\n"
            "    with torch.no_grad():\n"
            "        for k, layer in enumerate(net.eval()):\n"
            "            x = layer(x)\n"
            "            shapes[name, k] = tuple(x.shape)\n"
            "helper = models.build_model('cnn', seed)\n"
            "try:\n"
            "    assert str(wide.cpu()) == str(helper)\n"
            "    check_passes = True\n"
            "except AssertionError:\n"
            "    check_passes = False\n"
            "print(shapes[('wide', 4)], shapes[('wide', 8)], check_passes)"
        ),
        check=(
            "assert shapes[('wide', 4)] == (128, 32, 14, 14) and shapes[('cnn', 4)] == (128, 16, 14, 14)\n"
            "assert all(shapes[('wide', k)] == shapes[('cnn', k)] for k in range(5, len(cnn)))\n"
            "assert check_passes is False"
        ),
    ),
]
