// Draws the report's and the benchmark's charts from the figures the page embeds. Every
// number here has already been through disclosure control; a suppressed figure is null and
// is left out. The table beside each chart carries the same figures.
(function () {
  "use strict";
  var BLUE = "#005eb8", PALE = "#41b6e6", GREY = "#768692", RED = "#d5281b", INK = "#212b32";
  var PALETTE = [BLUE, PALE, "#007f3b", "#ffb81c", "#7c2855", "#330072", GREY, "#ed8b00"];

  // A figure hidden by disclosure control (from 1 to 7 people) is marked * where its bar
  // would stand, so that it is not read as none.
  var suppressedMarks = {
    id: "suppressedMarks",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, zero = chart.scales.y.getPixelForValue(0);
      ctx.save();
      ctx.fillStyle = "#212b32";
      ctx.textAlign = "center";
      ctx.font = "bold 16px Arial, sans-serif";
      chart.data.datasets.forEach(function (dataset, i) {
        var meta = chart.getDatasetMeta(i);
        if (!chart.isDatasetVisible(i)) return;
        (dataset.suppressed || []).forEach(function (suppressed, j) {
          var element = meta.data[j];
          if (suppressed && element && isFinite(element.x)) ctx.fillText("*", element.x, zero - 4);
        });
      });
      ctx.restore();
    }
  };

  function bar(canvas, labels, datasets, yTitle) {
    var anySuppressed = datasets.some(function (d) {
      return (d.suppressed || []).some(Boolean);
    });
    return new window.Chart(canvas, {
      type: "bar",
      data: {labels: labels, datasets: datasets},
      plugins: [suppressedMarks],
      options: {animation: false, maintainAspectRatio: false,
                plugins: {subtitle: {display: anySuppressed, position: "bottom",
                                     text: "* hidden: a figure from 1 to 7 people"}},
                scales: {y: {beginAtZero: true, title: {display: true, text: yTitle}}}}
    });
  }

  var draw = {
    waiting: function (canvas, charts) {
      var w = charts.waiting;
      bar(canvas, w.labels, w.datasets.map(function (d, i) {
        return {label: d.label, data: d.data, suppressed: d.suppressed,
                backgroundColor: PALETTE[i % PALETTE.length]};
      }), "Referrals");
    },
    scores: function (canvas, charts) {
      var s = charts.scores;
      bar(canvas, s.labels, [
        {label: "Mean first score", data: s.first, suppressed: s.first_suppressed,
         backgroundColor: GREY},
        {label: "Mean last score", data: s.last, suppressed: s.last_suppressed,
         backgroundColor: BLUE}
      ], "Score");
    },
    flows: function (canvas, charts) {
      new window.Chart(canvas, {
        type: "sankey",
        data: {datasets: [{data: charts.flows, colorFrom: function () { return BLUE; },
                           colorTo: function () { return PALE; }, colorMode: "gradient",
                           borderWidth: 0}]},
        options: {animation: false, maintainAspectRatio: false}
      });
    },
    // CORE Net's pre/post chart: each cell of first and last scores holding 8 or more
    // episodes as a bubble of its rounded count, read by the line of no change, the
    // reliable change limits either side of it and the clinical cut-off on both axes.
    prepost: function (canvas, charts) {
      var p = charts.prepost.filter(function (c) { return c.code === canvas.dataset.code; })[0];
      var lo = p.min, hi = p.max;
      function line(label, colour, dash, points) {
        return {type: "line", label: label, borderColor: colour, borderDash: dash,
                pointRadius: 0, borderWidth: 1, fill: false,
                data: points.map(function (xy) { return {x: xy[0], y: xy[1]}; })};
      }
      var datasets = [
        {type: "bubble", label: "Episodes (rounded to 5)", backgroundColor: "rgba(0, 94, 184, 0.6)",
         data: p.cells.map(function (c) {
           return {x: c.x, y: c.y, r: 3 + 2 * Math.sqrt(c.n), n: c.n, first: c.first, last: c.last};
         })},
        line("No change", GREY, [], [[lo, lo], [hi, hi]])
      ];
      if (p.rci !== null) {
        datasets.push(line("Reliable change limits", RED, [4, 4],
                           [[lo + p.rci, lo], [hi, hi - p.rci]]));
        datasets.push(line("Reliable change limits (upper)", RED, [4, 4],
                           [[lo, lo + p.rci], [hi - p.rci, hi]]));
      }
      if (p.cutoff !== null) {
        datasets.push(line("Clinical cut-off", PALE, [], [[p.cutoff, lo], [p.cutoff, hi]]));
        datasets.push(line("Clinical cut-off (upper)", PALE, [], [[lo, p.cutoff], [hi, p.cutoff]]));
      }
      new window.Chart(canvas, {
        type: "bubble",
        data: {datasets: datasets},
        options: {animation: false, maintainAspectRatio: false,
                  plugins: {
                    legend: {labels: {filter: function (item) {
                      return item.text.indexOf("(upper)") === -1; }}},
                    tooltip: {callbacks: {label: function (item) {
                      var d = item.raw;
                      return d.n === undefined ? item.dataset.label :
                        "First " + d.first + ", last " + d.last + ": " + d.n + " episodes";
                    }}}},
                  scales: {x: {type: "linear", min: lo, max: hi,
                               title: {display: true, text: "First score"}},
                           y: {type: "linear", min: lo, max: hi,
                               title: {display: true, text: "Last score"}}}}
      });
    },
    funnel: function (canvas, charts) {
      var f = charts[canvas.dataset.funnel];
      function line(name, side, label, colour, dash) {
        return {type: "line", label: label, borderColor: colour, backgroundColor: colour,
                borderDash: dash, pointRadius: 0, borderWidth: 1, fill: false,
                data: f.curve.map(function (c) { return {x: c.n, y: c[name][side]}; })};
      }
      var points = f.points.filter(function (p) { return p.x !== null; });
      new window.Chart(canvas, {
        type: "scatter",
        data: {datasets: [
          {label: f.kind === "service" ? "Services (red: outside the 99.8% limits)" :
                  "Institutions (red: outside the 99.8% limits)",
           data: points.map(function (p) { return {x: p.x, y: p.y, label: p.label}; }),
           backgroundColor: BLUE,
           pointBackgroundColor: points.map(function (p) { return p.flagged ? RED : BLUE; }),
           pointRadius: 5},
          {type: "line", label: "Hub rate", borderColor: INK, backgroundColor: INK, pointRadius: 0,
           borderWidth: 1, data: f.curve.map(function (c) { return {x: c.n, y: f.pooled}; })},
          line("95", 0, "95% limits", PALE, [4, 4]), line("95", 1, "95% limits (upper)", PALE, [4, 4]),
          line("99.8", 0, "99.8% limits", GREY, []), line("99.8", 1, "99.8% limits (upper)", GREY, [])
        ]},
        options: {animation: false, maintainAspectRatio: false,
                  plugins: {legend: {labels: {filter: function (item) {
                              return item.text.indexOf("(upper)") === -1; }}},
                            tooltip: {callbacks: {label: function (item) {
                              var d = item.raw;
                              return d.label === undefined ? item.dataset.label :
                                d.label + ": " + d.y + "% of " + d.x;
                            }}}},
                  scales: {x: {type: "linear", beginAtZero: true,
                               title: {display: true, text: "Eligible episodes"}},
                           y: {min: 0, max: 100, title: {display: true, text: "Rate (%)"}}}}
      });
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var charts = JSON.parse(document.getElementById(canvas.dataset.source).textContent);
      draw[canvas.dataset.chart](canvas, charts);
    });
  });
})();
