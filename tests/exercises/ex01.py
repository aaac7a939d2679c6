"""Notebook 01's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("01-1", says="You will see forty digits, every one titled 7, white on black like the grid above.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          "2026-12-03: forty digits, every title '7'"))
def one_digit_many_hands(plots, images, labels):
    fig = plots.digit_grid(images[labels == 7][:40], labels[labels == 7][:40])
    # check
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["7"] * 40, titles
    shown = fig.axes[0].get_images()[0]
    assert tuple(shown.to_rgba(0.0)[:3]) == (0, 0, 0)  # the background (0) is black
    assert tuple(shown.to_rgba(float(images.max()))[:3]) == (1, 1, 1)  # full ink is white


@exercise("01-2", says="and the background, 0 before, becomes a negative number.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: mean -0.0000, std 1.0000, background -0.4241'))
def normalise(pixels, images):
    normalised = (pixels - pixels.mean()) / pixels.std()
    print(f"mean {normalised.mean():.4f}, std {normalised.std():.4f}, background {normalised.min():.4f}")
    # check
    assert abs(normalised.mean().item()) < 1e-3 and abs(normalised.std().item() - 1) < 1e-3
    assert normalised.min() < 0 and (normalised[images == 0] == normalised.min()).all()


@exercise("01-3", says="You will see 1,875 batches (60,000 / 32) and `True`: one epoch uses every training digit "
                       "exactly once.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: 1875 batches; every position once: True'))
def every_digit_once(order, torch, mnist, dev):
    batches = order.split(32)
    print(len(batches), "batches; every position once:", torch.equal(torch.cat(batches).sort().values,
                                                                      torch.arange(len(mnist.train), device=dev)))
    # check
    assert len(batches) == -(-len(mnist.train) // 32) and (len(mnist.train) != 60_000 or len(batches) == 1875)
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(len(mnist.train), device=dev))
