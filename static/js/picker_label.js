// Select2 names its combobox after the option it shows, so an empty partner picker has no
// accessible name: name each admin autocomplete after its field's label instead, once the
// admin's autocomplete.js has built the pickers.
(function () {
  "use strict";
  function nameAfterLabel(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    var container = select.nextElementSibling;
    var box = container && container.querySelector(".select2-selection");
    if (!label || !box) {
      return;
    }
    var name = label.textContent.replace(/:\s*$/, "").trim();
    box.removeAttribute("aria-labelledby");
    box.setAttribute("aria-label", name);
    // The option shown inside it is a read-only textbox of its own.
    box.querySelectorAll("[role=textbox]").forEach(function (shown) {
      shown.setAttribute("aria-label", name);
    });
  }
  function nameAll() {
    document.querySelectorAll("select.admin-autocomplete").forEach(nameAfterLabel);
  }
  // The admin builds the pickers in a jQuery ready handler: queue after it.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.django && window.django.jQuery) {
      window.django.jQuery(function () {
        window.setTimeout(nameAll, 0);
      });
    }
  });
  window.addEventListener("load", nameAll);
})();
