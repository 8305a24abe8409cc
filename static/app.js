// FleetPrompt's only script besides htmx and its SSE extension. Pages work
// without it; it only polishes htmx behaviour. No inline script anywhere:
// the Content-Security-Policy forbids it.
(function () {
  "use strict";

  // A form marked data-reset-on-success is cleared after htmx posted it
  // successfully (a reply appended in place leaves an empty editor).
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && evt.detail.successful) {
      form.reset();
    }
  });

  // Forms with data-confirm ask before posting, with or without htmx.
  document.addEventListener("submit", function (evt) {
    var msg = evt.target.getAttribute && evt.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // Org switcher: submit on change; the button stays for no-JS users.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches("select[data-autosubmit]")) {
      evt.target.form.requestSubmit();
    }
  });
})();
