/* Every page (base.html). After htmx swaps a part of the page, keyboard and screen-reader users
   must not be left on nothing: when the swap took away the element that had the focus (the link
   or button that was pressed), the focus moves into the new part, on its first heading (or on the
   part itself). Typing in a field that stays keeps the focus where it is. Out-of-band parts (a
   count in the header) never take the focus. A page that opens with [data-focus-on-load] (a
   form's summary of what to fix) starts with the focus there. */
(function () {
  "use strict";
  if (window.portalFocusReady) {
    return;
  }
  window.portalFocusReady = true;

  var places = new WeakMap(); // swap target → where it stood, to find an outerHTML swap's replacement

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.parentNode) {
      places.set(target, {parent: target.parentNode, before: target.previousSibling});
    }
  });

  function swapped(target) {
    if (target.isConnected) {
      return target; // innerHTML and the like: the target stays
    }
    if (target.id && document.getElementById(target.id)) {
      return document.getElementById(target.id);
    }
    var place = places.get(target);
    if (!place || !place.parent.isConnected) {
      return null;
    }
    var node = place.before && place.before.isConnected ? place.before.nextSibling : place.parent.firstChild;
    while (node && node.nodeType !== Node.ELEMENT_NODE) {
      node = node.nextSibling;
    }
    return node;
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  // A page that opens on a problem to fix (a form's error summary) starts there.
  var first = document.querySelector("[data-focus-on-load]");
  if (first) {
    first.focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !focusLost()) {
      return;
    }
    var region = swapped(target);
    if (!region) {
      return;
    }
    var place = region.querySelector("[data-swap-focus], h1, h2, h3") || region;
    if (!place.hasAttribute("tabindex") && !place.matches("a[href], button, input, select, textarea")) {
      place.setAttribute("tabindex", "-1");
    }
    place.focus();
  });
})();
