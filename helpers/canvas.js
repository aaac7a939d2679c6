// The drawing pad's front end (DigitCanvas in helpers/canvas.py), an anywidget module: https://anywidget.dev
function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "mnist-pad";
  root.innerHTML = `
    <div class="mnist-left">
      <canvas class="mnist-canvas" width="${size}" height="${size}"></canvas>
      <div class="mnist-buttons">
        <button class="mnist-read" type="button">Read it</button>
        <button class="mnist-clear" type="button">Clear</button>
        <button class="mnist-photo" type="button">Photo ...</button>
        <input class="mnist-file" type="file" accept="image/*" hidden>
      </div>
      <div class="mnist-hint">Draw one digit, large, with the mouse or a finger; or choose a photo of one.</div>
    </div>
    <div class="mnist-right">
      <div class="mnist-label">what the models see (28 x 28)</div>
      <canvas class="mnist-preview" width="28" height="28"></canvas>
      <div class="mnist-status"></div>
      <div class="mnist-results"></div>
    </div>`;
  el.appendChild(root);
  const canvas = root.querySelector(".mnist-canvas");
  const preview = root.querySelector(".mnist-preview");
  const status = root.querySelector(".mnist-status");
  const results = root.querySelector(".mnist-results");
  const ctx = canvas.getContext("2d");

  function clearPad() {
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const p = preview.getContext("2d");
    p.fillStyle = "black";
    p.fillRect(0, 0, 28, 28);
    results.replaceChildren();
    status.textContent = "";
    root.dataset.state = "empty";
  }
  clearPad();

  let drawing = false;
  let last = null;
  function position(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }
  function dot([x, y]) {
    ctx.beginPath();
    ctx.arc(x, y, model.get("line_width") / 2, 0, 2 * Math.PI);
    ctx.fillStyle = "black";
    ctx.fill();
  }
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = position(event);
    dot(last);
    root.dataset.state = "drawn";
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const point = position(event);
    ctx.strokeStyle = "black";
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(point[0], point[1]);
    ctx.stroke();
    last = point;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  function read(photo) {  // send the pad's picture to Python; `photo`: the file's name, "" for a drawing
    status.textContent = "reading ...";
    root.dataset.state = "reading";
    model.set("drawing", canvas.toDataURL("image/png"));
    model.set("photo", photo);
    model.set("request", model.get("request") + 1);
    model.save_changes();
  }
  root.querySelector(".mnist-read").addEventListener("click", () => read(""));
  root.querySelector(".mnist-clear").addEventListener("click", clearPad);

  // A photo: the browser decodes it (any format it shows, upright by its EXIF orientation, at any size), its
  // middle square fills the pad on white paper, and it is read like a drawing. Only the pad's small PNG travels.
  const file = root.querySelector(".mnist-file");
  root.querySelector(".mnist-photo").addEventListener("click", () => file.click());
  file.addEventListener("change", () => {
    const chosen = file.files[0];
    file.value = "";  // choosing the same file again reads it again
    if (!chosen) return;
    const image = new Image();
    image.onload = () => {
      clearPad();
      const side = Math.min(image.naturalWidth, image.naturalHeight);
      ctx.drawImage(image, (image.naturalWidth - side) / 2, (image.naturalHeight - side) / 2, side, side,
                    0, 0, canvas.width, canvas.height);
      read(chosen.name);
    };
    image.onerror = () => {
      status.textContent = `${chosen.name} is not an image this browser can show: choose a PNG or JPEG photo`;
      root.dataset.state = "error";
    };
    const reader = new FileReader();
    reader.onload = () => { image.src = reader.result; };
    reader.readAsDataURL(chosen);
  });

  function show() {
    const reading = model.get("reading");
    results.replaceChildren();
    if (!reading || reading.request !== model.get("request")) return;
    if (reading.error) {
      status.textContent = reading.error;
      root.dataset.state = "error";
      return;
    }
    status.textContent = "";
    const p = preview.getContext("2d");
    const pixels = p.createImageData(28, 28);
    reading.image.forEach((v, i) => {
      const g = Math.round(255 * v);
      pixels.data.set([g, g, g, 255], 4 * i);
    });
    p.putImageData(pixels, 0, 0);
    for (const m of reading.models) {
      const block = document.createElement("div");
      block.className = "mnist-model";
      const best = m.probabilities.indexOf(Math.max(...m.probabilities));
      block.innerHTML = `<div class="mnist-title">${m.name} reads
        <b class="mnist-prediction" data-model="${m.name}">${best}</b>
        (${Math.round(100 * m.probabilities[best])} %)</div>`;
      m.probabilities.forEach((q, digit) => {
        const row = document.createElement("div");
        row.className = "mnist-row";
        row.innerHTML = `<span class="mnist-digit">${digit}</span>
          <span class="mnist-track"><span class="mnist-bar${digit === best ? " mnist-best" : ""}"
            style="width: ${(100 * q).toFixed(1)}%"></span></span>
          <span class="mnist-percent">${(100 * q).toFixed(1)} %</span>`;
        block.appendChild(row);
      });
      results.appendChild(block);
    }
    root.dataset.state = "read";
  }
  model.on("change:reading", show);
  show();
  return () => model.off("change:reading", show);
}
export default { render };
