"""Notebook 06's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("06-1", says="Fed straight in, the small 7 is only a faint speck in the top-left corner; prepared, it is "
                       "almost the same image as the large 7, its centre of mass within half a pixel of (14, 14).",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: the small 7 prepared has its centre of mass at (14.47, 14.11)'))
def size_and_place(digits, plots, torch, shrink):
    small = digits.draw_strokes([[(x / 4, y / 4) for x, y in s] for s in digits.STROKES[7]], width=5)
    large = digits.draw_strokes(digits.STROKES[7])
    row = [shrink(small), shrink(large), digits.to_mnist(small), digits.to_mnist(large)]
    titles = ["small, straight", "large, straight", "small, prepared", "large, prepared"]
    fig = plots.digit_grid(torch.stack(row), columns=4, titles=titles)
    print(digits.centre_of_mass(digits.to_mnist(small).reshape(28, 28)))
    # check
    assert [ax.get_title() for ax in fig.axes] == ["small, straight", "large, straight", "small, prepared",
                                                   "large, prepared"]
    straight = shrink(small).reshape(28, 28)
    assert (straight < 0.5).sum() <= 3 and (straight[:8, :8] < 1).sum() >= 1  # a faint speck, top left
    assert (straight[8:, :] > 0.99).all() and (straight[:, 8:] > 0.99).all()  # the rest is white paper
    assert (digits.to_mnist(small) - digits.to_mnist(large)).abs().mean() < 0.03  # almost the same image
    assert all(abs(c - 14) <= 0.5 for c in digits.centre_of_mass(digits.to_mnist(small).reshape(28, 28)))


@exercise("06-2", says="Centred by mass, every centre of mass lies within half a pixel of (14, 14); centred by box, "
                       "the pen-stroke 7, whose ink is heavy at its top bar, has its centre of mass more than 3 "
                       "pixels above row 14.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: centred by mass every centre within 0.5 px of (14, 14); centred by box the '
          "pen-stroke 7's at row 10.15"))
def box_or_mass(centre_by_box, digits, examples, prepared):
    boxed = [centre_by_box(digits.preprocessing_steps(p)[digits.STEP_NAMES[3]]) for _, _, p in examples]
    for (what, digit, _), a, b in zip(examples, prepared, boxed):
        print(digit, what, digits.centre_of_mass(a.reshape(28, 28)), digits.centre_of_mass(b.reshape(28, 28)))
    # check
    by_mass = [digits.centre_of_mass(a.reshape(28, 28)) for a in prepared]
    assert all(abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5 for r, c in by_mass), by_mass
    sevens = [digits.centre_of_mass(b.reshape(28, 28)) for (what, digit, _), b in zip(examples, boxed)
              if what == "pen strokes" and digit == 7]
    assert len(sevens) == 1 and sevens[0][0] < 11, sevens
