// Zoom buttons for the wiring diagram: the image's width steps between "fit the frame" and its
// natural size times 4; the frame scrolls (and pinch-zoom works natively on a phone). A diagram
// that would shrink below 60 % to fit (a phone) opens at its natural size, readable, to scroll.
(function () {
  "use strict";
  var img = document.getElementById("diagram");
  var frame = document.getElementById("diagram-frame");
  if (!img || !frame) return;
  var scale = 0; // 0 = fit the frame's width

  function apply() {
    if (scale === 0) {
      img.style.width = "100%";
      img.style.maxWidth = "100%";
    } else {
      img.style.maxWidth = "none";
      img.style.width = Math.round(img.naturalWidth * scale) + "px";
    }
  }

  function fitScale() {
    return img.naturalWidth ? frame.clientWidth / img.naturalWidth : 1;
  }

  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var how = button.getAttribute("data-zoom");
      var current = scale === 0 ? fitScale() : scale;
      if (how === "fit") scale = 0;
      else if (how === "in") scale = Math.min(current * 1.5, 4);
      else scale = Math.max(current / 1.5, 0.1);
      apply();
    });
  });
  function start() {
    scale = fitScale() < 0.6 ? 1 : 0;
    apply();
  }

  if (img.complete && img.naturalWidth) start();
  else img.addEventListener("load", start);
  apply();
})();
