// The vault page: copy a value with one tap, and hide a shown value again after a while.
// (A static file because the pages' Content-Security-Policy allows no inline script.)
(function () {
  "use strict";
  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(source); });
    } else {
      select(source);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* the value stays selected */ }
    }
  }
  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  var masked = {};  // cell id -> its masked content (with the Show button), put back on hiding
  function hideLater(root) {
    var shown = (root || document).querySelectorAll("[data-hide-after]");
    shown.forEach(function (node) {
      var seconds = parseInt(node.getAttribute("data-hide-after"), 10) || 30;
      node.removeAttribute("data-hide-after");
      setTimeout(function () {
        var cell = node.parentNode;
        if (!cell) return;
        if (masked[cell.id]) {
          cell.innerHTML = masked[cell.id];
          if (window.htmx) window.htmx.process(cell);
        } else {
          node.textContent = "••••••••";
          var button = cell.querySelector("button.copy");
          if (button) button.remove();
        }
      }, seconds * 1000);
    });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.id.indexOf("val-") === 0) masked[target.id] = target.innerHTML;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) copy(button);
  });
  document.addEventListener("htmx:afterSwap", function (event) { hideLater(event.target); });
  document.addEventListener("DOMContentLoaded", function () { hideLater(document); });
})();
