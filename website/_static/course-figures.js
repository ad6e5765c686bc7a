// The course website's moving figures: a widget's pictures, precomputed after the lecture ran
// (course_lib.widgets.base.Frames), shown by a slider or buttons. No kernel, no server, no CDN.
//
// Each figure is <div class="course-figure"> holding a <script type="application/json"> with
// {title, controls: [{label, values, index, kind}], frames: [base64 PNG], captions, map, points}.
// Picture number = the controls' indices in row-major order (the last control varies fastest).
(function () {
  "use strict";

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function build(root, number) {
    const data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
    const controls = data.controls;
    const index = controls.map((c) => c.index);
    const urls = data.frames.map((b64) => "data:image/png;base64," + b64);
    const id = "course-figure-" + number;

    const form = el("div", { class: "course-figure-controls" });
    const picture = el("img", { class: "course-frame", alt: "" });
    const caption = el("figcaption", { class: "course-figure-caption", id: id + "-caption", "aria-live": "polite" });
    let marker = null;
    const pictures = el("div", { class: "course-figure-pictures" });
    pictures.appendChild(picture);
    if (data.map) {
      const map = el("div", { class: "course-figure-map" });
      map.appendChild(el("img", { src: "data:image/png;base64," + data.map,
        alt: "map of the test images' codes, coloured by digit; the marker shows where z is" }));
      marker = el("span", { class: "course-figure-marker", "aria-hidden": "true" });
      map.appendChild(marker);
      pictures.appendChild(map);
    }

    function frameNumber() {
      let n = 0;
      for (let i = 0; i < controls.length; i++) n = n * controls[i].values.length + index[i];
      return n;
    }

    const readouts = [];
    const buttonRows = [];
    function show() {
      const n = frameNumber();
      picture.src = urls[n];
      const text = data.captions ? data.captions[n] : controls.map((c, i) => c.label + " = " + c.values[index[i]]).join(", ");
      picture.alt = (data.title ? data.title + ": " : "") + text;
      caption.textContent = text;
      readouts.forEach((r, i) => { if (r) r.textContent = controls[i].values[index[i]]; });
      buttonRows.forEach((row, i) => {
        if (!row) return;
        row.querySelectorAll("button").forEach((b, j) => b.setAttribute("aria-pressed", String(j === index[i])));
      });
      if (marker && data.points) {
        marker.style.left = (100 * data.points[n][0]) + "%";
        marker.style.top = (100 * data.points[n][1]) + "%";
      }
      root.dataset.frame = String(n);
    }

    controls.forEach((c, i) => {
      const row = el("div", { class: "course-figure-control" });
      const labelId = id + "-label-" + i;
      row.appendChild(el("span", { class: "course-figure-label", id: labelId }, c.label));
      if (c.kind === "buttons") {
        const group = el("div", { role: "group", "aria-labelledby": labelId, class: "course-figure-buttons" });
        c.values.forEach((v, j) => {
          const b = el("button", { type: "button", "aria-pressed": "false" }, v);
          b.addEventListener("click", () => { index[i] = j; show(); });
          group.appendChild(b);
        });
        row.appendChild(group);
        buttonRows.push(group);
        readouts.push(null);
      } else {
        const range = el("input", { type: "range", min: "0", max: String(c.values.length - 1), step: "1",
          value: String(c.index), "aria-labelledby": labelId, class: "course-figure-slider" });
        const out = el("output", { class: "course-figure-value" });
        range.addEventListener("input", () => {
          index[i] = Number(range.value);
          range.setAttribute("aria-valuetext", c.label + " " + c.values[index[i]]);
          show();
        });
        row.appendChild(range);
        row.appendChild(out);
        readouts.push(out);
        buttonRows.push(null);
      }
      form.appendChild(row);
    });

    const figure = el("figure", { class: "course-figure-live", "aria-describedby": id + "-caption" });
    if (data.title) figure.appendChild(el("div", { class: "course-figure-title" }, data.title));
    figure.appendChild(form);
    figure.appendChild(pictures);
    figure.appendChild(caption);
    const saved = root.querySelector(".course-figure-saved");
    if (saved) saved.hidden = true; // the saved picture stays for pages read without JavaScript
    root.appendChild(figure);
    show();
    // Decode every picture once, when the browser is idle, so that a move only swaps a picture.
    const warm = () => urls.forEach((u) => { const im = new Image(); im.src = u; if (im.decode) im.decode().catch(() => {}); });
    (window.requestIdleCallback || window.setTimeout)(warm);
  }

  function start() {
    document.querySelectorAll(".course-figure").forEach((root, i) => {
      try { build(root, i); } catch (err) { root.dataset.error = String(err); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
