// Draws each questionnaire trajectory from the JSON the page embeds: scores by session over
// shaded bands, the clinical cut-off, and the reliable-change band around the first score.
// The data table beside each chart carries the same figures for screen readers.
(function () {
  "use strict";
  var BAND_COLOURS = ["#e8f1f8", "#dbe9f4", "#fff4cc", "#ffe5cc", "#ffd6cc", "#f7c4c4"];

  function annotations(data, kind) {
    var found = {};
    data.bands.forEach(function (band, i) {
      found["band" + i] = {
        type: "box", yMin: band.from, yMax: band.to, drawTime: "beforeDatasetsDraw",
        backgroundColor: BAND_COLOURS[Math.min(i, BAND_COLOURS.length - 1)], borderWidth: 0,
        label: kind ? undefined : {display: true, content: band.label, position: "start",
                                   color: "#4c6272", font: {size: 11}}
      };
    });
    if (!kind && data.cutoff !== null) {
      found.cutoff = {type: "line", yMin: data.cutoff, yMax: data.cutoff, borderColor: "#d5281b",
                      borderDash: [6, 4], borderWidth: 2,
                      label: {display: true, content: data.words.cutoff, position: "end"}};
    }
    if (!kind && data.reliable) {
      found.reliable = {type: "box", yMin: data.reliable.from, yMax: data.reliable.to,
                        backgroundColor: "rgba(0, 94, 184, 0.12)", borderColor: "#005eb8",
                        borderWidth: 1, borderDash: [2, 2]};
    }
    return found;
  }

  function draw(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.trajectory).textContent);
    var kind = canvas.hasAttribute("data-kind");
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.points.map(function (p) { return p.label; }),
        datasets: [{label: data.code, data: data.points.map(function (p) { return p.score; }),
                    borderColor: "#005eb8", backgroundColor: "#005eb8", tension: 0, pointRadius: 4}]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {y: {min: data.min, max: data.max, title: {display: true, text: data.words.score}}},
        plugins: {legend: {display: false}, annotation: {annotations: annotations(data, kind)}}
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-trajectory]").forEach(draw);
  });
})();
