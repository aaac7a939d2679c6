"""The drawing pad in a real browser: a Jupyter server on 127.0.0.1 runs a notebook (in Jupyter Notebook 7,
then in JupyterLab) that shows ``helpers.canvas.DigitCanvas`` with trained models; headless Chromium,
driven by Selenium, draws digits on it with real mouse events, presses "Read it", and must see the digit
it drew as the CNN's answer, with the 28 x 28 image it received; then it chooses a phone-sized photo of a digit
with "Photo ...", must see that digit read too, and a second cell must find the photo's name and picture on the
kernel's side of the pad (what notebook 06, section 6 reads).

Where the installed Jupyter Notebook is a classic one (6.x), the same test runs in it instead: noxfile.py's
colab session installs Notebook 6.5.7 with Colab's widget stack (ipywidgets 7.7.1, widgetsnbextension 3.6.10,
anywidget 0.9.21), the front end closest to Colab's.

Skipped, with the reason, when Chromium, chromedriver, the Python packages or the real MNIST files
(the models must have learned real handwriting) are missing. ``.ci/run`` installs Chromium with apt.
Set ``MNIST_BROWSER_SCREENSHOTS=<folder>`` to keep the screenshots.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import ENV_DATA, SHARED_DATA

import helpers
from helpers import digits

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
DRIVER = shutil.which("chromedriver")
MODELS = ("seed_linear", "cnn")
# The kernel imports the `helpers` this test imports: the checkout's, or in noxfile.py's colab session the installed
# copy (whose canvas.js and canvas.css must then have been installed with it).
HELPERS_FROM = Path(helpers.__file__).resolve().parent.parent
EPOCHS = 1  # one epoch on all 60,000 training digits: enough for the CNN to read a clear drawing
# Each user interface: its URL path, notebook, digits to draw, and how to find the first cell, click into its
# editor and read its prompt ("[ ]:" before it runs). Notebook 7's server also serves JupyterLab.
MODERN = {"cell": ".jp-Notebook .jp-Cell", "editor": ".jp-InputArea-editor .cm-content", "prompt": ".jp-InputPrompt",
          "idle": ("", "[ ]:"), "ready": "return true"}
UIS = {
    "notebook7": {"path": "notebooks", "notebook": "pad_notebook.ipynb", "digits": (7, 1), **MODERN},
    "jupyterlab": {"path": "lab/tree", "notebook": "pad_lab.ipynb", "digits": (4,), **MODERN},
}
CLASSIC_UIS = {
    "classic": {"path": "notebooks", "notebook": "pad_classic.ipynb", "digits": (7, 1), "cell": "#notebook .cell",
                "editor": ".CodeMirror", "prompt": ".input_prompt", "idle": ("", "In [ ]:"),
                # Run the cell only once the kernel is ready (its info reply is in) and both widget extensions are
                # loaded: widgetsnbextension first restores the kernel's widgets, and a pad shown while the kernel
                # is still too busy to answer that never renders (a person does not run a cell that early).
                "ready": "const k = Jupyter.notebook && Jupyter.notebook.kernel; return !!(k && k.widget_manager "
                         "&& Object.keys(k.info_reply || {}).length "
                         "&& requirejs.defined('nbextensions/anywidget/extension'))",
                "settle": 2},
}
try:
    CLASSIC = int(importlib.metadata.version("notebook").split(".")[0]) < 7  # Notebook 6: its own server
except importlib.metadata.PackageNotFoundError:
    CLASSIC = False
if CLASSIC:
    UIS = CLASSIC_UIS


def _missing() -> str | None:
    for module in ("selenium", "notebook", "jupyter_server", "anywidget"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module!r} is not installed (pip install -r requirements.txt)"
    if CHROMIUM is None:
        return "no Chromium browser on PATH (Debian: apt-get install chromium chromium-driver)"
    if DRIVER is None:
        return "no chromedriver on PATH (Debian: apt-get install chromium-driver)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


@pytest.fixture(scope="module")
def real_data() -> Path:
    for folder in (ENV_DATA, SHARED_DATA):
        if folder and (Path(folder) / "MNIST" / "raw").is_dir():
            return Path(folder).resolve()
    pytest.skip("the browser test needs the real MNIST files ($MNIST_DATA_DIR or ../shared/data): models "
                "trained on synthetic digits cannot read a drawn digit")


@pytest.fixture(scope="module")
def trained(real_data, tmp_path_factory) -> Path:
    """Both models trained for one epoch into a fresh artifacts folder; the notebook loads them from there."""
    from helpers import training

    artifacts = tmp_path_factory.mktemp("artifacts")
    for name in MODELS:
        training.train(training.RunConfig(model=name, epochs=EPOCHS), data_dir=str(real_data),
                       artifacts_dir=artifacts, device="cpu", progress=False)
    return artifacts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_notebook(path: Path, data_dir: Path, artifacts: Path) -> None:
    source = f"""import sys
sys.path.insert(0, {str(HELPERS_FROM)!r})
from helpers import canvas, training

models = {{name: training.train(training.RunConfig(model=name, epochs={EPOCHS}), data_dir={str(data_dir)!r},
                               artifacts_dir={str(artifacts)!r}, device="cpu", progress=False).model.eval()
          for name in {MODELS!r}}}
pad = canvas.DigitCanvas(models)
pad"""
    check = 'print(f"the kernel has {pad.photo!r}, {pad.image.shape}")'  # what notebook 06, section 6 reads
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source), nbformat.v4.new_code_cell(check)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def server(trained, real_data, tmp_path_factory):
    """A Jupyter server (Notebook 7, or a classic Notebook 6) on 127.0.0.1 with a notebook per user interface that
    shows the pad; yields its URL, token and log."""
    root = tmp_path_factory.mktemp("jupyter")
    for ui in UIS.values():  # one notebook per user interface, each with its own kernel
        _write_notebook(root / ui["notebook"], real_data, trained)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config"), "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    log = open(root / "server.log", "w")
    if CLASSIC:  # Notebook 6's own server and options
        options = ["--NotebookApp.ip=127.0.0.1", "--NotebookApp.port_retries=0", f"--NotebookApp.token={token}",
                   f"--NotebookApp.notebook_dir={root}"]
    else:
        options = ["--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={root}"]
    process = subprocess.Popen(
        [sys.executable, "-m", "notebook", "--no-browser", "--allow-root", f"--port={port}", *options],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as answer:
                    json.load(answer)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Jupyter server did not start:\n{(root / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token, root / "server.log"
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server's own process group: it and its kernel
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1300,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console, shown on a failure
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, seconds: float, condition, what: str, log: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.25).until(condition)
    except Exception:
        shot = log.with_name("failure.png")
        driver.save_screenshot(str(shot))
        console = "\n".join(f"{e['level']} {e['message'][:300]}" for e in driver.get_log("browser")
                            if e["level"] in ("WARNING", "SEVERE"))
        pytest.fail(f"timed out after {seconds} s waiting for {what}; screenshot {shot}; "
                    f"server log:\n{log.read_text()[-3000:]}\nbrowser console:\n{console[-3000:]}")


def _poll(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def _draw(driver, canvas, strokes) -> None:
    """Draw with the mouse: press, move through the stroke's points in small steps, release."""
    from selenium.webdriver.common.action_chains import ActionChains

    size = canvas.size["width"]
    for stroke in strokes:
        points = [(x * size / 280 - size / 2, y * size / 280 - size / 2) for x, y in stroke]
        actions = ActionChains(driver, duration=10)
        actions.move_to_element_with_offset(canvas, round(points[0][0]), round(points[0][1])).click_and_hold()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            steps = max(1, round(max(abs(x1 - x0), abs(y1 - y0)) / 8))
            for k in range(1, steps + 1):
                actions.move_to_element_with_offset(canvas, round(x0 + (x1 - x0) * k / steps),
                                                    round(y0 + (y1 - y0) * k / steps))
        actions.release().perform()


def _photo(path: Path) -> Path:
    """A phone-sized JPEG (2000 x 1500, over 1 MB) of a dark pen-stroke "3" in the middle of grainy paper lit from
    one side, as a learner photographs one."""
    import torch
    from PIL import Image

    strokes = [[(x * 4.5 + 370, y * 4.5 + 120) for x, y in stroke] for stroke in digits.STROKES[3]]
    ink = 1 - torch.from_numpy(digits.draw_strokes(strokes, size=(1500, 2000), width=90)).float() / 255
    light = torch.linspace(0.55, 0.9, 2000).expand(1500, 2000)
    grain = 0.06 * torch.randn(1500, 2000, 3, generator=torch.Generator().manual_seed(0))
    photo = ((light * (1 - ink) + 0.1 * ink)[..., None] + grain).clamp(0, 1)
    Image.fromarray((photo * 255).round().byte().numpy()).save(path, quality=95)
    assert path.stat().st_size > 1_000_000
    return path


PREVIEW_JS = """
const preview = document.querySelector('.mnist-preview');
const data = preview.getContext('2d').getImageData(0, 0, 28, 28).data;
return Array.from({length: 784}, (_, i) => data[4 * i] / 255);
"""


@pytest.mark.parametrize("ui", list(UIS))
def test_a_digit_drawn_with_the_mouse_is_read_by_the_cnn(ui, server, browser):
    import torch
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, token, log = server
    page = UIS[ui]
    browser.get(f"{base}/{page['path']}/{page['notebook']}?token={token}")
    _wait(browser, 60, lambda d: d.find_elements(By.CSS_SELECTOR, page["cell"]), "the notebook", log)
    _wait(browser, 60, lambda d: d.execute_script(page["ready"]), "the kernel and the widget extensions", log)
    time.sleep(page.get("settle", 0))  # classic: the widget manager's restore, which follows the kernel's first reply
    # run the cell as a person does: click into it, press Shift+Enter. A key pressed while the page is still
    # connecting to the kernel is lost, so press again until the cell shows it runs ([*]) or ran ([1]).
    from selenium.common.exceptions import WebDriverException

    for _ in range(10):
        # JupyterLab asks which kernel to start when its list of kernels came late (a busy machine): take the one it
        # proposes, as a person would
        for button in browser.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
            button.click()
        first = browser.find_elements(By.CSS_SELECTOR, page["cell"])[0]
        try:
            first.find_element(By.CSS_SELECTOR, page["editor"]).click()
        except WebDriverException:  # still being laid out
            time.sleep(1)
            continue
        ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        prompt = first.find_element(By.CSS_SELECTOR, page["prompt"])
        if _poll(lambda prompt=prompt: prompt.text.replace("\xa0", " ").strip() not in page["idle"], 15):
            break
    else:
        _wait(browser, 0, lambda d: False, "the notebook to run its cell after ten tries", log)
    pad = _wait(browser, 240, lambda d: d.find_elements(By.CSS_SELECTOR, "canvas.mnist-canvas"),
                "the drawing pad (kernel start, models loaded)", log)[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", pad)
    shots = os.environ.get("MNIST_BROWSER_SCREENSHOTS")

    for digit in page["digits"]:
        browser.find_element(By.CSS_SELECTOR, ".mnist-clear").click()
        assert not browser.find_elements(By.CSS_SELECTOR, ".mnist-prediction")
        _draw(browser, pad, digits.STROKES[digit])
        browser.find_element(By.CSS_SELECTOR, ".mnist-read").click()
        shown = _wait(browser, 60, lambda d: d.find_elements(By.CSS_SELECTOR, '.mnist-prediction[data-model="cnn"]'),
                      "the models' answer", log)
        answers = {e.get_attribute("data-model"): e.text for e in browser.find_elements(By.CSS_SELECTOR,
                                                                                          ".mnist-prediction")}
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(shots) / f"{ui}_{digit}.png"))
        assert shown[0].text == str(digit), f"drew a {digit}, the page shows {answers}"
        assert set(answers) == set(MODELS) and all(a.isdigit() for a in answers.values())
        bars = browser.find_elements(By.CSS_SELECTOR, ".mnist-bar")
        assert len(bars) == 10 * len(MODELS)
        # the 28 x 28 image shown is an MNIST digit: white ink on black, centred by mass at pixel 14
        image = torch.tensor(browser.execute_script(PREVIEW_JS)).reshape(28, 28)
        assert image[0].sum() == 0 and image.max() > 0.9
        rows, cols = digits.centre_of_mass(image)
        assert abs(rows - 14) < 0.6 and abs(cols - 14) < 0.6, (rows, cols)

    # a photo, chosen with "Photo ...": the browser decodes it and fills the pad with its middle square
    browser.find_element(By.CSS_SELECTOR, ".mnist-clear").click()
    assert not browser.find_elements(By.CSS_SELECTOR, ".mnist-prediction")
    browser.find_element(By.CSS_SELECTOR, ".mnist-file").send_keys(str(_photo(log.with_name(f"photo_{ui}.jpg"))))
    shown = _wait(browser, 60, lambda d: d.find_elements(By.CSS_SELECTOR, '.mnist-prediction[data-model="cnn"]'),
                  "the models' answer to the photo", log)
    if shots:
        browser.save_screenshot(str(Path(shots) / f"{ui}_photo.png"))
    assert shown[0].text == "3", f"chose a photo of a 3, the page shows {shown[0].text}"
    # the kernel knows it was a photo, and holds the pad's picture: run the second cell as a person does
    second = browser.find_elements(By.CSS_SELECTOR, page["cell"])[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", second)
    second.find_element(By.CSS_SELECTOR, page["editor"]).click()
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    _wait(browser, 30, lambda d: f"the kernel has 'photo_{ui}.jpg', (280, 280)" in second.text,
          "the second cell's output: the photo's name and the pad's picture", log)
    notes = log.with_name(f"notes_{ui}.txt")
    notes.write_text("not a photo")
    browser.find_element(By.CSS_SELECTOR, ".mnist-file").send_keys(str(notes))
    _wait(browser, 20, lambda d: "is not an image" in d.find_element(By.CSS_SELECTOR, ".mnist-status").text,
          "the message for a file that is not an image", log)
