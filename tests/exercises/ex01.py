"""The "Try it" exercises of notebook 01, for CI: each one's change (``code``, run after the notebook) and a check
of what the notebook promises the learner will see (``says``, the same words as the notebook's Try it text)."""

EXERCISES = [
    dict(
        id="01-1",
        says="You will see forty digits, every one titled 7, white on black like the grid above.",
        parameters={},
        code="fig = plots.digit_grid(images[labels == 7][:40], labels[labels == 7][:40])",
        check=(
            "titles = [ax.get_title() for ax in fig.axes if ax.get_title()]\n"
            "assert titles == ['7'] * 40, titles\n"
            "shown = fig.axes[0].get_images()[0]\n"
            "assert tuple(shown.to_rgba(0.0)[:3]) == (0, 0, 0)  # the background (0) is black\n"
            "assert tuple(shown.to_rgba(float(images.max()))[:3]) == (1, 1, 1)  # full ink is white"
        ),
    ),
    dict(
        id="01-2",
        says="Both lines still print every training digit of `mnist` once (the same number of samples as before), "
             "now in an eighth as many batches.",
        parameters={},
        code=(
            "def epoch_with_dataloader():\n"
            "    loader = DataLoader(TensorDataset(mnist.train.x, mnist.train.y), batch_size=256, shuffle=True)\n"
            "    return sum(len(y) for x, y in loader)\n"
            "\n"
            "\n"
            "def epoch_with_indexing():\n"
            "    order = torch.randperm(len(mnist.train), generator=generator).to(dev)\n"
            "    batches = ((mnist.train.x[order[i : i + 256]], mnist.train.y[order[i : i + 256]])\n"
            "               for i in range(0, len(order), 256))\n"
            "    return sum(len(y) for x, y in batches)\n"
            "\n"
            "\n"
            "printed = {}\n"
            "for fn in (epoch_with_dataloader, epoch_with_indexing):\n"
            "    start = time.perf_counter()\n"
            "    printed[fn.__name__] = samples = fn()\n"
            "    print(f\"{fn.__name__:>22}: {samples:,} samples in {time.perf_counter() - start:.3f} s\")"
        ),
        check=(
            "import math\n"
            "assert list(printed.values()) == [len(mnist.train)] * 2, printed\n"
            "loader = DataLoader(TensorDataset(mnist.train.x, mnist.train.y), batch_size=256)\n"
            "assert len(loader) == math.ceil(len(mnist.train) / 256) == math.ceil(math.ceil(len(mnist.train) / 32) / 8)"
        ),
    ),
    dict(
        id="01-3",
        says="You will see 0 and 1, up to rounding, and the background, 0 before, becomes a negative number",
        parameters={},
        code=(
            "normalised = (pixels - pixels.mean()) / pixels.std()\n"
            "print(f\"mean {normalised.mean():.4f}, std {normalised.std():.4f}, background {normalised.min():.4f}\")"
        ),
        check=(
            "assert abs(normalised.mean().item()) < 1e-3 and abs(normalised.std().item() - 1) < 1e-3\n"
            "assert normalised.min() < 0 and (normalised[images == 0] == normalised.min()).all()"
        ),
    ),
]
