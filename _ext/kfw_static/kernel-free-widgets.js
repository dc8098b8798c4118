/* Kernel-free widgets: each .kfw block holds range inputs and selects; moving one shows the
 * frame precomputed at build time for the chosen values (row-major over the controls).
 * No dependencies, no network: the frames are files of the book itself. */
(function () {
  "use strict";
  function setUp(block) {
    var data = JSON.parse(block.getAttribute("data-kfw"));
    var inputs = Array.prototype.slice.call(block.querySelectorAll("[data-kfw-control]"));
    var image = block.querySelector("img.kfw-frame");
    var preloaded = false;
    function current() {
      return inputs.map(function (input) { return parseInt(input.value, 10) || 0; });
    }
    function show() {
      var idx = current();
      var frame = 0;
      var settings = [];
      idx.forEach(function (v, i) {
        frame += v * data.strides[i];
        var control = data.controls[i];
        settings.push(control.label + " " + control.values[v]);
        var output = inputs[i].parentNode.querySelector("output");
        if (output) { output.textContent = control.values[v]; }
      });
      image.src = data.base + data.files[frame];
      image.alt = data.alt + " Settings: " + settings.join(", ") + ".";
      block.setAttribute("data-kfw-frame", String(frame));
      if (!preloaded) {   /* after the first move, fetch the rest so sliding is smooth */
        preloaded = true;
        data.files.forEach(function (f) { (new Image()).src = data.base + f; });
      }
    }
    inputs.forEach(function (input) {
      input.addEventListener("input", show);
      input.addEventListener("change", show);
    });
    block.classList.add("kfw-ready");
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".kfw"), setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
