/* Sends the page's #auto-post form at once (templates/auto_post.html). Without JavaScript the
   page shows its button instead. */
(function () {
  "use strict";
  var form = document.getElementById("auto-post");
  if (form) { form.submit(); }
}());
