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

  // A form marked data-swap-429 shows its "too fast" answer (429, the
  // form again with the message and the text kept) like a 422.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (evt.detail.xhr.status === 429 && elt && elt.closest && elt.closest("[data-swap-429]")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  // Forms with data-confirm ask before posting, with or without htmx.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (!msg) { return; }
    if (!window.confirm(msg)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
      return;
    }
    // Asked here: the server's own confirmation page (shown without
    // JavaScript) is not needed.
    if (!form.querySelector("input[name=confirmed]")) {
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirmed"; yes.value = "1";
      form.appendChild(yes);
    }
  }, true);

  // Live updates (SSE). htmx-ext-sse reopens a stream without
  // Last-Event-ID after a failed answer, so keep the page's cursor in its
  // sse-connect URL: the reconnect resumes after the last event shown.
  document.addEventListener("htmx:sseMessage", function (evt) {
    var id = evt.detail && evt.detail.lastEventId;
    var src = evt.target.closest && evt.target.closest("[sse-connect]");
    if (!id || !src) { return; }
    var url = src.getAttribute("sse-connect").replace(/([?&]last_event_id=)[^&]*/, "$1" + encodeURIComponent(id));
    src.setAttribute("sse-connect", url);
  });

  // The header's badge. Every stream carries the person's own
  // notification events beside its topic (no ids: they move no cursor),
  // so the badge is kept from whichever stream the page has, and a page
  // with none opens the "me" stream alone (#inbox-live's data-me-stream):
  // one stream a tab, not two (six connections per site in all).
  if (window.htmx && htmx.createEventSource) {
    var makeSource = htmx.createEventSource;
    htmx.createEventSource = function (url) {
      var es = makeSource(url);
      es.addEventListener("notification.created", showBadge);
      es.addEventListener("notification.read", showBadge);
      es.addEventListener("open", fetchBadge);
      return es;
    };
  }
  function showBadge(evt) {
    var inbox = document.getElementById("inbox");
    if (inbox && evt.data && evt.data.indexOf("<!--") !== 0) { inbox.innerHTML = evt.data; }
  }
  function fetchBadge() {
    if (document.getElementById("inbox")) {
      htmx.ajax("GET", "/notifications/badge", { target: "#inbox", swap: "innerHTML" });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var me = document.querySelector("[data-me-stream]");
    if (!me || document.querySelector("[sse-connect]")) { return; }
    me.setAttribute("sse-connect", me.getAttribute("data-me-stream"));
    me.removeAttribute("data-me-stream");
    htmx.process(me);
  });

  // fp-live: an element that is already on the page (same id) is not
  // inserted again: a reply you just posted and its live event, or an
  // event replayed after a reconnect. Replacements (outerHTML) pass.
  var inserting = /^(beforeend|afterbegin|beforebegin|afterend)\b/;
  function dropPresent(parent, keep) {
    var dropped = false;
    Array.prototype.slice.call(parent.children).forEach(function (el) {
      var existing = el.id && document.getElementById(el.id);
      if (existing && existing !== keep && !existing.contains(keep) && !el.hasAttribute("hx-swap-oob")) {
        el.remove();
        dropped = true;
      }
    });
    return dropped;
  }
  function dedupe(text, elt) {
    // Whole documents and fragments without ids are left exactly as sent.
    if (text.indexOf("id=") < 0 || /<(html|body)[\s>]/i.test(text)) { return text; }
    var tpl = document.createElement("template");
    tpl.innerHTML = text;
    var spec = (elt && elt.getAttribute && elt.getAttribute("hx-swap")) || "";
    var dropped = inserting.test(spec) && dropPresent(tpl.content, elt);
    tpl.content.querySelectorAll("[hx-swap-oob]").forEach(function (o) {
      if (inserting.test(o.getAttribute("hx-swap-oob")) && dropPresent(o, null)) { dropped = true; }
    });
    return dropped ? tpl.innerHTML : text;
  }
  // app.js loads (deferred) after htmx, so htmx is there to extend.
  if (window.htmx) {
    htmx.defineExtension("fp-live", { transformResponse: function (text, xhr, elt) { return dedupe(text, elt); } });
  }

  // Org switcher: submit on change; the button stays for no-JS users.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches("select[data-autosubmit]")) {
      evt.target.form.requestSubmit();
    }
  });

  // Menus (<details class="menu">) open and close without JavaScript;
  // here they also close on Escape, on a click elsewhere, and one
  // opening closes the other.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (evt) {
    closeMenus(evt.target.closest ? evt.target.closest("details.menu") : null);
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") { return; }
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });

  // After a failed submit, focus goes to the first invalid field (its
  // message is tied to it with aria-describedby, so it is read out), or
  // to the form's own error: never left on the body. On a full page (a
  // 422 without htmx) and after htmx swapped the re-rendered form in.
  function focusInvalid(root) {
    var el = root.querySelector("[aria-invalid=true]") || root.querySelector(".form-error[role=alert]");
    if (!el) { return; }
    if (!el.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName)) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
  }
  document.addEventListener("DOMContentLoaded", function () { focusInvalid(document); });
  document.addEventListener("htmx:afterSettle", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    // Inline validation (a field swapped on change) keeps focus where the
    // person is typing; only a submitted form's answer moves it.
    if (xhr && xhr.status === 422 && evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get" &&
        evt.detail.requestConfig.elt && evt.detail.requestConfig.elt.tagName === "FORM") {
      focusInvalid(document);
    }
  });
})();
