// Follow a running import: poll its JSON status, show the rows done, rejected and the
// rate, and reload the page once it has finished (the server renders the result).
(function () {
  "use strict";
  var area = document.getElementById("progress");
  if (!area || !area.dataset.pollUrl) {
    return;
  }
  var shown = {
    status: "progress-status",
    rows_read: "progress-rows",
    rows_rejected: "progress-rejected",
    rows_per_s: "progress-rate",
  };

  function show(row) {
    Object.keys(shown).forEach(function (key) {
      var element = document.getElementById(shown[key]);
      if (element && row[key] !== null && row[key] !== undefined) {
        element.textContent =
          typeof row[key] === "number" ? row[key].toLocaleString("en-US") : String(row[key]);
      }
    });
  }

  function poll() {
    fetch(area.dataset.pollUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        show(body.data);
        if (body.data.status === "done" || body.data.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        // A blip (network, restart): keep trying, more slowly.
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 500);
})();
