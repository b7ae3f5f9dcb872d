/* The verify page's drop zone: <label data-dropzone> around the form's file input.
   Dropping a file on it puts the file in the input (so the form and htmx send it as
   usual) and shows its name in [data-dropzone-chosen]; choosing one with the button
   does the same. Without JavaScript the label still opens the file chooser.
   Loaded with `defer`; no inline script (CSP script-src 'self'). */
(function () {
  "use strict";
  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }
  function wire(zone) {
    if (zone.dataset.dropWired) { return; }
    zone.dataset.dropWired = "1";
    var input = zone.querySelector("input[type=file]");
    var chosen = zone.querySelector("[data-dropzone-chosen]");
    if (!input) { return; }
    function show() {
      var file = input.files && input.files[0];
      if (chosen) { chosen.textContent = file ? file.name : (chosen.dataset.empty || ""); }
      zone.classList.toggle("has-file", !!file);
    }
    var depth = 0;
    zone.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      depth += 1;
      zone.classList.add("is-over");
    });
    zone.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) { zone.classList.remove("is-over"); }
    });
    zone.addEventListener("drop", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      depth = 0;
      zone.classList.remove("is-over");
      var files = event.dataTransfer.files;
      if (!files || !files.length) { return; }
      var transfer = new DataTransfer();
      transfer.items.add(files[0]);
      input.files = transfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", show);
    show();
  }
  function wireAll() {
    var zones = document.querySelectorAll("[data-dropzone]");
    for (var i = 0; i < zones.length; i += 1) { wire(zones[i]); }
  }
  // A file dropped beside the zone must not replace the page with the image.
  document.addEventListener("dragover", function (event) { if (hasFiles(event)) { event.preventDefault(); } });
  document.addEventListener("drop", function (event) { if (hasFiles(event)) { event.preventDefault(); } });
  wireAll();
  document.addEventListener("htmx:afterSettle", wireAll);
})();
