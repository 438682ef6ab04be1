// Small behaviours that htmx attributes do not cover. Loaded as a file: the CSP forbids inline scripts.
(function () {
  "use strict";
  function closeModal() {
    var host = document.getElementById("modal");
    if (host) { host.innerHTML = ""; }
  }
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-modal-close]");
    if (closer && document.getElementById("modal").contains(closer)) {
      event.preventDefault();
      closeModal();
    }
    // Close open dropdowns when clicking elsewhere.
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(event.target)) { d.removeAttribute("open"); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closeModal();
      document.querySelectorAll("details.dropdown[open]").forEach(function (d) { d.removeAttribute("open"); });
    }
  });
  // "All on this page" in a bulk form ticks the rows' checkboxes that belong to that form (form="<id>").
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) { return; }
    var form = all.closest("form");
    var selector = 'input[type="checkbox"][name="' + all.dataset.selectAll + '"][form="' + form.id + '"]';
    document.querySelectorAll(selector).forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) { event.target.select(); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "modal") {
      var first = event.detail.target.querySelector("[autofocus], button, a");
      if (first) { first.focus(); }
    }
  });
  // A list searched with htmx has pushed its query into the address bar: switch language on that page.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest(".language-form");
    var next = form && form.querySelector('input[name="next"]');
    if (next) { next.value = window.location.pathname + window.location.search; }
  });
  // On a phone the menu is a row that scrolls sideways: show the current page's item, not the first ones.
  function revealCurrentNavItem() {
    var nav = document.querySelector(".sidebar");
    var current = nav && nav.querySelector("a.is-active");
    if (!current || nav.scrollWidth <= nav.clientWidth) { return; }
    var offset = current.getBoundingClientRect().left - nav.getBoundingClientRect().left;
    nav.scrollLeft += offset - (nav.clientWidth - current.offsetWidth) / 2;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", revealCurrentNavItem);
  } else {
    revealCurrentNavItem();
  }
})();
