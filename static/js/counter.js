/* Counter intake (templates/admin/counter*.html): "print the receipt", and a record found in the
   catalog look-up added to the form's list of reference codes. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
      return;
    }
    var add = event.target.closest("[data-add-record]");
    var list = document.getElementById("records");
    if (add && list) {
      var key = add.getAttribute("data-add-record");
      var lines = list.value.split("\n").filter(function (line) { return line.trim() !== ""; });
      if (lines.indexOf(key) === -1) {
        lines.push(key);
      }
      list.value = lines.join("\n");
      var records = document.querySelector("input[name=kind][value=records]");
      if (records) {
        records.checked = true;
      }
    }
  });
})();
