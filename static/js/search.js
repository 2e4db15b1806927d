/* The search page (templates/catalog/search.html). Without JavaScript the page is a plain form and
   plain links. Where the focus goes after a facet, a chip or a page link replaced the results:
   static/js/portal.js (the results' heading). */
(function () {
  "use strict";
  // htmx runs this file again when a history restore brings the page back: listen once.
  if (window.portalSearchReady) {
    return;
  }
  window.portalSearchReady = true;

  // The filters come back out of band with each answer: a year being typed while the answer was on
  // its way is kept (its own change event then searches again).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (!target || target.id !== "search-filters" || !active || !active.id || !target.contains(active) ||
        active.tagName !== "INPUT") {
      return;
    }
    var incoming = event.detail.fragment.querySelector("#" + CSS.escape(active.id));
    if (incoming && incoming.value !== active.value) {
      incoming.value = active.value;
    }
  });

  // On a wide screen the facets stand beside the results, open. CSS does it where the browser knows
  // ::details-content; this does it everywhere else (the summary "筛选" is hidden there).
  var wide = window.matchMedia("(min-width: 48.0625rem)");
  function openFacetsOnWideScreens() {
    if (!wide.matches) {
      return;
    }
    document.querySelectorAll("details.facets-disclosure:not([open])").forEach(function (details) {
      details.open = true;
    });
  }
  openFacetsOnWideScreens();
  document.addEventListener("htmx:afterSettle", openFacetsOnWideScreens);
  wide.addEventListener("change", openFacetsOnWideScreens);
})();
