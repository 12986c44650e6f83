// The console's only script (served by this server; the CSP forbids inline script).
// 1. Drag and drop onto the upload area puts the files in the picker and submits the form.
// 2. A verdict still being checked is polled and replaced by the server's rendering when ready.
// 3. The board's quarter list opens the chosen quarter.
(function () {
  "use strict";

  function setUpDropzone() {
    var zone = document.getElementById("dropzone");
    var input = document.getElementById("id_files");
    var form = document.getElementById("upload-form");
    if (!zone || !input || !form) return;
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      form.submit();
    });
    input.addEventListener("change", function () {
      if (input.files.length) form.submit();
    });
  }

  function poll(card) {
    var url = card.getAttribute("data-status-url");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.state === "pending") { setTimeout(function () { poll(card); }, 400); return; }
        return fetch(data.fragment, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var holder = document.createElement("div");
            holder.innerHTML = html;
            var fresh = holder.firstElementChild;
            if (fresh) card.replaceWith(fresh);
          });
      })
      .catch(function () { setTimeout(function () { poll(card); }, 2000); });
  }

  function setUpPolling() {
    document.querySelectorAll("[data-status-url]").forEach(poll);
  }

  function setUpQuarterSelect() {
    var select = document.getElementById("quarter-select");
    if (!select) return;
    select.addEventListener("change", function () {
      window.location = select.getAttribute("data-base") + select.value + "/";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpDropzone();
    setUpPolling();
    setUpQuarterSelect();
  });
})();
