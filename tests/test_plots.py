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


def test_digits_are_drawn_as_the_tensors_hold_them_white_ink_on_black():
    digit = torch.zeros(784)
    digit[400:410] = 1.0  # a stroke of full ink on a 0 background
    image = plots.digit_grid(digit[None]).axes[0].get_images()[0]
    background, ink = image.to_rgba(image.get_array())[0, 0], image.to_rgba(image.get_array())[14, 8]
    assert tuple(background[:3]) == (0, 0, 0) and tuple(ink[:3]) == (1, 1, 1)  # 0 is black, ink is white
