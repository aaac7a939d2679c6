"""Every figure function returns a figure with the expected content, and saves a PNG."""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import evaluation, plots  # noqa: E402

HISTORY = {
    "train": {"step": [0, 1, 2, 3], "loss": [2.3, 1.5, 1.0, 0.8], "error": [90.0, 60.0, 40.0, 30.0]},
    "val": {"step": [0, 2, 4], "loss": [2.3, 0.9, 0.6], "error": [91.0, 30.0, 20.0]},
}


def test_error_and_loss_curves_draw_both_series(tmp_path):
    for fig in (plots.error_curves(HISTORY), plots.loss_curves(HISTORY)):
        assert isinstance(fig, Figure)
        lines = fig.axes[0].get_lines()
        assert [list(line.get_xdata()) for line in lines] == [[0, 1, 2, 3], [0, 2, 4]]
    plots.save(fig, tmp_path / "sub" / "curves.png")
    assert (tmp_path / "sub" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digit_grid_titles_show_label_and_prediction():
    images = torch.rand(12, 784)
    fig = plots.digit_grid(images, torch.arange(12) % 10, (torch.arange(12) + 1) % 10, columns=5)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(fig.axes) == 15 and len(titles) == 12 and titles[0] == "0 \u2192 1"
    fig = plots.digit_grid(images[:3], titles=["a", "b", "c"], columns=4)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", ""]


def test_confusion_matrix_counts_and_figure():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 2, 0])
    matrix = evaluation.confusion_matrix(predictions, labels)
    assert matrix.shape == (10, 10) and matrix.sum() == 6
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[2, 0] == 1 and matrix[2, 2] == 2
    assert evaluation.misclassified(predictions, labels).tolist() == [1, 5]
    texts = [t.get_text() for t in plots.confusion(matrix).axes[0].texts]
    assert sorted(texts) == ["1", "1", "1", "1", "2"]


def test_weight_images_draw_each_class_with_a_symmetric_colour_scale():
    weight = torch.randn(10, 784)
    fig = plots.weight_images(weight)
    assert [ax.get_title() for ax in fig.axes] == [str(d) for d in range(10)]
    image = fig.axes[3].get_images()[0]
    assert image.get_array().shape == (28, 28) and (image.get_array() == weight[3].reshape(28, 28).numpy()).all()
    low, high = image.get_clim()
    assert low == -high > -float(weight.abs().max()) - 1e-6


def test_compare_curves_puts_each_model_on_an_epoch_axis():
    fig = plots.compare_curves({"a": (HISTORY, 2), "b": (HISTORY, 4)})
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2] and list(ax.get_lines()[1].get_xdata()) == [0, 0.5, 1]
    assert ax.get_yscale() == "log"


def test_feature_maps_shows_the_input_then_one_panel_per_channel():
    maps = torch.rand(16, 28, 28)
    maps[3] = 0
    fig = plots.feature_maps(torch.rand(784), maps)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(fig.axes) == 2 * 9 and [ax.get_title() for ax in titled[:2]] == ["input", "channel 0"]
    assert len(titled) == 17
    shown = titled[4].get_images()[0].get_array()
    assert shown.shape == (28, 28) and (shown == 0).all()  # channel 3, where it belongs


def test_digits_are_drawn_as_the_tensors_hold_them_white_ink_on_black():
    digit = torch.zeros(784)
    digit[400:410] = 1.0  # a stroke of full ink on a 0 background
    shown = [plots.digit_grid(digit[None]).axes[0].get_images()[0],
             plots.feature_maps(digit, torch.rand(2, 28, 28)).axes[0].get_images()[0]]
    for image in shown:
        background, ink = image.to_rgba(image.get_array())[0, 0], image.to_rgba(image.get_array())[14, 8]
        assert tuple(background[:3]) == (0, 0, 0) and tuple(ink[:3]) == (1, 1, 1)  # 0 is black, ink is white
