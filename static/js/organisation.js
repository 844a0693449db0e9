// Organisation page: draw the three charts from the JSON the server embeds (json_script).
(function () {
  "use strict";
  var source = document.getElementById("org-chart-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#0d6efd", "#6f42c1", "#d63384", "#fd7e14", "#198754", "#20c997", "#0dcaf0"];
  var charts = {};

  // A bar leads to the table filtered to it (links[i]; null for a bar no filter can show).
  function openBar(links) {
    return function (event, elements) {
      var link = elements.length ? links[elements[0].index] : null;
      if (link) { window.location.assign(link); }
    };
  }

  function pointer(links) {
    return function (event, elements) {
      var link = elements.length ? links[elements[0].index] : null;
      event.native.target.style.cursor = link ? "pointer" : "default";
    };
  }

  function bar(id, pairs, label, links) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: pairs.map(function (p) { return p[0]; }),
        datasets: [{ label: label, data: pairs.map(function (p) { return p[1]; }), backgroundColor: palette[0] }]
      },
      options: {
        maintainAspectRatio: false,
        indexAxis: "y",
        onClick: openBar(links || []),
        onHover: pointer(links || []),
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }  // counts: no 0.5 ticks
      }
    });
  }

  charts.byAction = bar("chart-by-action", data.byAction, "Active grants", data.byActionLinks);
  charts.byDepartment = bar("chart-by-department", data.byDepartment, "Grants", data.byDepartmentLinks);
  var timeCanvas = document.getElementById("chart-over-time");
  if (timeCanvas) {
    var names = Object.keys(data.overTime.series);
    charts.overTime = new window.Chart(timeCanvas, {
      type: "line",
      data: {
        labels: data.overTime.labels,
        datasets: names.map(function (name, i) {
          return { label: name, data: data.overTime.series[name], borderColor: palette[i + 1], backgroundColor: palette[i + 1], tension: 0.2 };
        })
      },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  // Browser tests read this to check the charts exist.
  window.portalCharts = charts;
})();
