// Floor plans: tap (or click) the plan to place the chosen device there. The tap becomes x/y as
// fractions of the image and the pin form is posted; the server keeps and checks everything.
// (A static file because the pages' Content-Security-Policy allows no inline script.)
(function () {
  "use strict";
  function formFor(stage) {
    return document.querySelector('form.pin-form[data-plan="' + stage.getAttribute("data-plan") + '"]');
  }
  function syncVersion(form) {
    var select = form.querySelector('select[name="device_id"]');
    var option = select && select.options[select.selectedIndex];
    form.querySelector('input[name="version"]').value = option ? option.getAttribute("data-version") || "" : "";
  }
  function clamp(v) { return Math.min(1, Math.max(0, v)); }
  document.querySelectorAll("form.pin-form").forEach(function (form) {
    var select = form.querySelector('select[name="device_id"]');
    if (select) select.addEventListener("change", function () { syncVersion(form); });
    syncVersion(form);
  });
  document.querySelectorAll(".plan-stage").forEach(function (stage) {
    var form = formFor(stage);
    if (!form) return;
    stage.classList.add("tappable");
    stage.addEventListener("click", function (event) {
      var image = stage.querySelector("img");
      var box = image.getBoundingClientRect();
      if (!box.width || !box.height) return;
      var x = clamp((event.clientX - box.left) / box.width);
      var y = clamp((event.clientY - box.top) / box.height);
      form.querySelector('input[name="x"]').value = x.toFixed(4);
      form.querySelector('input[name="y"]').value = y.toFixed(4);
      syncVersion(form);
      stage.classList.add("saving");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    });
  });
})();
