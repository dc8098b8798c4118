/* The book's own small fixes on top of sphinx-book-theme (no dependencies, nothing fetched).
 *
 * 1. Phone navigation. pydata-sphinx-theme binds its sidebar dialogs to the FIRST
 *    .primary-toggle / .secondary-toggle of the page, a button of its own header that
 *    sphinx-book-theme hides; the visible ☰ and "on this page" buttons of the book theme get
 *    no handler, so below 992 px the table of contents cannot be opened. Forward their clicks
 *    to the bound button (which opens the dialog, or collapses the sidebar on wide screens).
 * 2. Figures open full-size: click (or Enter on) an output image or a widget frame to see it
 *    at its natural size in a dialog; click, Escape or the close button closes it.
 */
(function () {
  "use strict";

  function forwardToggles(selector) {
    var all = document.querySelectorAll(selector);
    if (all.length < 2) { return; }
    var bound = all[0];
    Array.prototype.slice.call(all, 1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    });
  }

  var FIGURES = ".cell_output img, .output img, figure img, img.kfw-frame";
  var dialog = null;

  function openFull(img) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "figure-zoom";
      dialog.innerHTML = '<button type="button" class="figure-zoom-close" ' +
        'aria-label="Close">×</button><div class="figure-zoom-body"><img alt=""></div>';
      document.body.appendChild(dialog);
      dialog.addEventListener("click", function () { dialog.close(); });
    }
    var big = dialog.querySelector("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt || "";
    dialog.showModal();
  }

  function zoomable(img) {
    if (img.closest("a")) { return; }   /* keep links working */
    img.classList.add("zoomable");
    img.setAttribute("tabindex", "0");
    img.setAttribute("role", "button");
    img.setAttribute("title", "Open full size");
    img.addEventListener("click", function () { openFull(img); });
    img.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openFull(img); }
    });
  }

  function init() {
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    Array.prototype.forEach.call(document.querySelectorAll(FIGURES), zoomable);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
