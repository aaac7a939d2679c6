"""The "Try it" exercises of notebook 06, for CI: each one's change (``code``, run after the notebook) and a check
of what the notebook promises the learner will see (``says``, the same words as the notebook's Try it text)."""

EXERCISES = [
    dict(
        id="06-1",
        says="Fed straight in, the small 7 is only a faint speck in the top-left corner; prepared, it is almost the "
             "same image as the large 7, its centre of mass within half a pixel of (14, 14).",
        parameters={},
        code=(
            "small = digits.draw_strokes([[(x / 4, y / 4) for x, y in s] for s in digits.STROKES[7]], width=5)\n"
            "large = digits.draw_strokes(digits.STROKES[7])\n"
            "fig = plots.digit_grid(torch.stack([shrink(small), shrink(large), digits.to_mnist(small),\n"
            "                                    digits.to_mnist(large)]), columns=4,\n"
            "                       titles=['small, straight', 'large, straight', 'small, prepared',\n"
            "                               'large, prepared'])"
        ),
        check=(
            "straight = shrink(small).reshape(28, 28)\n"
            "assert (straight < 0.5).sum() <= 3 and (straight[:8, :8] < 1).sum() >= 1  # a faint speck, top left\n"
            "assert (straight[8:, :] > 0.99).all() and (straight[:, 8:] > 0.99).all()  # the rest is white paper\n"
            "assert (digits.to_mnist(small) - digits.to_mnist(large)).abs().mean() < 0.03  # almost the same image\n"
            "assert all(abs(c - 14) <= 0.5 for c in digits.centre_of_mass(digits.to_mnist(small).reshape(28, 28)))"
        ),
    ),
    dict(
        id="06-2",
        says="Centred by mass, every centre of mass lies within half a pixel of (14, 14); centred by box, the "
             "pen-stroke 7, whose ink is heavy at its top bar, has its centre of mass more than 2 pixels above row 14.",
        parameters={},
        code=(
            "boxed = [centre_by_box(digits.preprocessing_steps(p)[digits.STEP_NAMES[3]]) for _, _, p in examples]\n"
            "by_mass = [digits.centre_of_mass(image.reshape(28, 28)) for image in prepared]\n"
            "by_box = [digits.centre_of_mass(image.reshape(28, 28)) for image in boxed]\n"
            "for (what, digit, _), a, b in zip(examples, by_mass, by_box):\n"
            "    print(f'{digit} ({what}): by mass ({a[0]:.1f}, {a[1]:.1f}), by box ({b[0]:.1f}, {b[1]:.1f})')"
        ),
        check=(
            "assert all(abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5 for r, c in by_mass), by_mass\n"
            "sevens = [b for (what, digit, _), b in zip(examples, by_box) if what == 'pen strokes' and digit == 7]\n"
            "assert len(sevens) == 1 and sevens[0][0] < 12, sevens"
        ),
    ),
    dict(
        id="06-3",
        says="From k = 3 on, the CNN trained without shifts makes more mistakes than the one trained with them",
        parameters={},
        code=(
            "import dataclasses\n"
            "from helpers.models import build_model\n"
            "recipe = dataclasses.replace(configs['cnn'].recipe, shift=0)\n"
            "trainer = training.Trainer(build_model('cnn', seed), mnist, recipe, seed=seed)\n"
            "trainer.fit()\n"
            "down = {}\n"
            "for k in (0, 1, 2, 3, 4):\n"
            "    offsets = torch.tensor([[k, 0]], device=dev).expand(len(mnist.val), 2)\n"
            "    moved = data.Split(data.shift_images(mnist.val.x, offsets, max(k, 1)), mnist.val.y)\n"
            "    down[k] = [evaluation.evaluate(m, moved)[1].item() for m in (models['cnn'], trainer.model)]\n"
            "    print(f'{k:>3} {down[k][0]:>6.2f} % {down[k][1]:>6.2f} %')"
        ),
        check="assert all(down[k][1] > down[k][0] for k in (3, 4)), down",
    ),
]
