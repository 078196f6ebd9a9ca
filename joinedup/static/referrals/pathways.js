// Draws the pathway map (a Sankey diagram) from the flows the page embeds; the table
// beside it carries the same figures, already through disclosure control.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-pathways]").forEach(function (canvas) {
      var flows = JSON.parse(document.getElementById(canvas.dataset.pathways).textContent);
      new window.Chart(canvas, {
        type: "sankey",
        data: {datasets: [{data: flows, colorFrom: function () { return "#005eb8"; },
                           colorTo: function () { return "#41b6e6"; }, colorMode: "gradient",
                           borderWidth: 0}]},
        options: {animation: false, maintainAspectRatio: false}
      });
    });
  });
})();
