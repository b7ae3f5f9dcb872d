/* LTI dynamic registration is finished: tell the LMS that opened this page (as a window or a
   frame) to close it (templates/lti/register_done.html). The message's subject is the script
   element's data-subject: org.imsglobal.lti.close. */
(function () {
  "use strict";
  var script = document.currentScript;
  var subject = (script && script.dataset.subject) || "org.imsglobal.lti.close";
  (window.opener || window.parent).postMessage({subject: subject}, "*");
}());
