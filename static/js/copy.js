/* Copy buttons: <button data-copy="ID" data-done="Copied">.
   Copies the value (inputs, textareas) or the text of the element with id ID,
   then shows the button's data-done text. Loaded with `defer`. */
(function () {
  "use strict";
  function textOf(field) {
    if ("value" in field && typeof field.value === "string") { return field.value; }
    return field.textContent || "";
  }
  function fallbackCopy(field, text) {
    if (typeof field.select === "function") {
      field.select();
    } else {
      var range = document.createRange();
      range.selectNodeContents(field);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    try { document.execCommand("copy"); } catch (error) { /* nothing more to try */ }
    return text;
  }
  function wire(button) {
    if (button.dataset.copyWired) { return; }
    button.dataset.copyWired = "1";
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copy);
      if (!field) { return; }
      var text = textOf(field);
      var done = function () { if (button.dataset.done) { button.textContent = button.dataset.done; } };
      if (typeof field.select === "function") { field.select(); }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(field, text); done(); });
      } else {
        fallbackCopy(field, text);
        done();
      }
    });
  }
  function wireAll(root) {
    (root || document).querySelectorAll("[data-copy]").forEach(wire);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { wireAll(document); });
  } else {
    wireAll(document);
  }
  /* Buttons that arrive later through htmx swaps. */
  document.addEventListener("htmx:afterSwap", function (event) { wireAll(event.target); });
}());
