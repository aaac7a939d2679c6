"""The models of the series and the recipe each one trains with.

Every model takes a batch of flat images (``N x 784`` floats in [0, 1]) and returns ``N x 10`` class
scores (logits). ``MODELS`` maps a name to its builder and its default recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .data import IMAGE_SIZE, NUM_CLASSES, NUM_FEATURES


@dataclass(frozen=True)
class Recipe:
    """How a model is trained. The trainer reads every field; nothing else changes the run."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"  # "constant" or "onecycle" (linear warm-up, then linear decay to 0)
    warmup: float = 0.0  # fraction of all steps spent warming up, for "onecycle"
    label_smoothing: float = 0.0
    shift: int = 0  # random translation of up to this many pixels, per image and step (augmentation)
    bf16: bool = False  # run forward passes in bfloat16 autocast (CPU, and GPUs that support it)
    optimizer: str = "sgd"  # "sgd" (uses momentum, nesterov, weight_decay) or "adam" (uses betas, weight_decay)
    betas: tuple[float, float] = (0.9, 0.999)  # Adam's decay rates for its running gradient averages

    def as_dict(self) -> dict:
        """The recipe as JSON has it (tuples become lists), so that a recipe read back compares equal."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def seed_linear() -> nn.Module:
    """The seed post's model: one linear layer, then a ReLU on its ten outputs."""
    return nn.Sequential(nn.Linear(NUM_FEATURES, NUM_CLASSES), nn.ReLU())


def softmax() -> nn.Module:
    """Softmax regression: one linear layer whose outputs are the logits (the softmax is in the loss)."""
    return nn.Sequential(nn.Linear(NUM_FEATURES, NUM_CLASSES))


def mlp() -> nn.Module:
    """A multi-layer perceptron: two hidden layers (512 and 256 units) with ReLUs between the linear layers."""
    return nn.Sequential(nn.Linear(NUM_FEATURES, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, NUM_CLASSES))


def _conv_pool(c_in: int, c_out: int) -> list[nn.Module]:
    """A 3x3 convolution (no bias: batch norm adds one), batch norm, ReLU, then halve the resolution."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


def cnn() -> nn.Module:
    """A small modern CNN: three conv/batch-norm/pool stages (28 -> 14 -> 7 -> 3 pixels), then a hidden layer."""
    return nn.Sequential(
        nn.Unflatten(1, (1, IMAGE_SIZE, IMAGE_SIZE)),  # the flat row back to a 1 x 28 x 28 image
        *_conv_pool(1, 16),  # 16 x 14 x 14
        *_conv_pool(16, 32),  # 32 x 7 x 7
        *_conv_pool(32, 64),  # 64 x 3 x 3
        nn.Flatten(),
        nn.Linear(64 * 3 * 3, 128, bias=False),
        nn.BatchNorm1d(128),
        nn.ReLU(),
        nn.Linear(128, NUM_CLASSES),
    )


def _conv_pool_norm(c_in: int, c_out: int) -> list[nn.Module]:
    """A 3x3 convolution, then halve the resolution, then batch norm and ReLU: pooling first leaves a quarter of
    the pixels for the element-wise layers (forward and backward) to touch."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c_out), nn.ReLU()]


def cnn_fast() -> nn.Module:
    """A CNN built for time to accuracy: three conv/pool/batch-norm stages (28 -> 14 -> 7 -> 3 pixels, 16, 32 and
    64 channels) straight into the ten outputs, with no hidden linear layer."""
    return nn.Sequential(
        nn.Unflatten(1, (1, IMAGE_SIZE, IMAGE_SIZE)),
        *_conv_pool_norm(1, 16),  # 16 x 14 x 14
        *_conv_pool_norm(16, 32),  # 32 x 7 x 7
        *_conv_pool_norm(32, 64),  # 64 x 3 x 3
        nn.Flatten(),
        nn.Linear(64 * 3 * 3, NUM_CLASSES),
    )


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[[], nn.Module]
    recipe: Recipe
    summary: str
    # CPU threads for training (None: PyTorch's default, all cores). A linear model's steps are a few tiny operations
    # that only lose from being split, and beside another busy program they lose a lot: one thread, always. The
    # CPU table in benchmarks/README.md (benchmarks/bench_cpu.py) measures both counts for every model.
    cpu_threads: int | None = None


MODELS: dict[str, ModelSpec] = {
    "seed_linear": ModelSpec(
        seed_linear,
        Recipe(epochs=25, batch_size=32, lr=0.08),
        "the post's model: Linear(784, 10) + ReLU, plain SGD",
        cpu_threads=1,
    ),
    "seed_linear_fast": ModelSpec(
        seed_linear,
        Recipe(epochs=12, batch_size=64, lr=0.16),
        "the post's model with twice its batch size and learning rate",
        cpu_threads=1,
    ),
    "softmax": ModelSpec(
        softmax,
        Recipe(epochs=25, batch_size=32, lr=0.08),
        "softmax regression: Linear(784, 10), the textbook linear classifier",
        cpu_threads=1,
    ),
    "mlp": ModelSpec(
        mlp,
        Recipe(epochs=12, batch_size=128, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
               schedule="onecycle", warmup=0.15, label_smoothing=0.1),
        "two hidden layers (512, 256) with ReLU",
    ),
    "cnn": ModelSpec(
        cnn,
        Recipe(epochs=8, batch_size=128, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
               schedule="onecycle", warmup=0.15, label_smoothing=0.1, shift=2, bf16=True),
        "three 3x3 conv stages with batch norm and pooling, a 128-unit hidden layer; random 2-pixel shifts",
    ),
    "cnn_fast": ModelSpec(
        cnn_fast,
        Recipe(epochs=1, batch_size=256, lr=0.01, optimizer="adam", betas=(0.7, 0.9), schedule="onecycle",
               warmup=0.2, label_smoothing=0.1, bf16=True),
        "three conv/pool/batch-norm stages, no hidden layer; one epoch of Adam: built to reach 99 % accuracy fast",
    ),
}


def build_model(name: str, seed: int = 0) -> nn.Module:
    """A freshly initialised model; the same ``seed`` gives the same initial weights (the global random state is
    left as it was)."""
    if name not in MODELS:
        raise ValueError(f"model={name!r} is unknown; choose one of {', '.join(MODELS)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MODELS[name].build()
    # Convolutions run about twice as fast on the CPU with channels-last activations; a no-op elsewhere.
    return model.to(memory_format=torch.channels_last)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable weights. Notebook 02, section 1 counts them by hand."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
