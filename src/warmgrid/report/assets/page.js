/* warmgrid page script: the hour slider, the map's colours, tooltips and chart cursors.
   Plain ES2017, no library, no network. Text is only ever written with textContent. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('wg-data').textContent);
  var tip = document.getElementById('tip');
  var M = D.map || null;
  var charts = D.charts || {};
  var hour = M ? M.h0 : 0;
  var slider = document.getElementById('hour');
  var play = document.getElementById('play');

  /* ---------------------------------------------------------------- helpers */
  function fmt(n) {
    if (n === null || n === undefined || isNaN(n)) return '—';
    return Math.round(n).toLocaleString('en-US');
  }
  function fmt1(n) {
    if (n === null || n === undefined || isNaN(n)) return '—';
    return (Math.round(n * 10) / 10).toFixed(1).replace('-', '−');
  }
  var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var start = null;
  if (D.start) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(D.start);
    if (m) start = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0));
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(h) {
    if (start === null) return 'hour ' + h;
    var t = new Date(start + h * 3600 * 1000);
    return DAYS[t.getUTCDay()] + ' ' + t.getUTCDate() + ' ' + MONTHS[t.getUTCMonth()] + ' ' +
      pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes());
  }
  /* one value per hour from a [[hour, value], ...] change list */
  function dense(ch, n, dflt, dt) {
    var out = new Array(n), j = 0, v = dflt;
    for (var k = 0; k < n; k++) {
      while (j < ch.length && ch[j][0] <= k * dt + 1e-9) { v = ch[j][1]; j++; }
      out[k] = v;
    }
    return out;
  }
  function hexToRgb(c) { return [1, 3, 5].map(function (i) { return parseInt(c.substr(i, 2), 16); }); }
  function color(t) {
    var P = M.palette;
    if (t === null || t === undefined) return '#cccccc';
    if (t <= P[0][0]) return P[0][1];
    for (var i = 1; i < P.length; i++) {
      if (t <= P[i][0]) {
        var f = (t - P[i - 1][0]) / (P[i][0] - P[i - 1][0]);
        var a = hexToRgb(P[i - 1][1]), b = hexToRgb(P[i][1]);
        return '#' + a.map(function (x, k) {
          var v = Math.round(x * (1 - f) + b[k] * f).toString(16);
          return v.length < 2 ? '0' + v : v;
        }).join('');
      }
    }
    return P[P.length - 1][1];
  }

  /* ---------------------------------------------------------------- tooltip */
  function showTip(evt, lines) {
    tip.replaceChildren();
    lines.forEach(function (l, i) {
      var el = document.createElement(i === 0 ? 'strong' : 'div');
      if (Array.isArray(l)) { el.textContent = l[0]; el.className = l[1]; } else el.textContent = l;
      tip.appendChild(el);
    });
    tip.hidden = false;
    moveTip(evt);
  }
  function moveTip(evt) {
    var r = tip.getBoundingClientRect(), g = 14;
    var x = evt.clientX + g, y = evt.clientY + g;
    if (x + r.width > window.innerWidth - 6) x = evt.clientX - g - r.width;
    if (y + r.height > window.innerHeight - 6) y = evt.clientY - g - r.height;
    tip.style.left = Math.max(4, x) + 'px';
    tip.style.top = Math.max(4, y) + 'px';
  }
  function hideTip() { tip.hidden = true; }

  /* ---------------------------------------------------------------- the map */
  var svgMap = document.getElementById('map');
  var A = [], T = [], nodes = {};
  if (M && svgMap) {
    var n = M.n, dt = M.dt;
    M.areas.forEach(function (a) {
      var d = {
        t: dense(a.t, n + 1, a.min, dt),
        light: dense(a.light, n, 100, dt), heat: dense(a.heat, n, 100, dt),
        water: dense(a.water, n, 100, dt), drained: dense(a.drained, n, 0, dt)
      };
      A.push(d);
    });
    M.heat.forEach(function (h) { h.d = dense(h.s, n, 100, dt); });
    M.water.forEach(function (w) { w.d = dense(w.s, n, 'pumps', dt); });
    M.fac.forEach(function (f) { f.d = dense(f.s, n, 'mains', dt); });
    var pw = [], j = 0;
    for (var k = 0; k < n; k++) {
      while (j + 1 < M.power.length && M.power[j + 1].h <= k * dt + 1e-9) j++;
      pw.push(M.power.length ? M.power[j] : null);
    }
    M.pw = pw;
    ['area', 'bus', 'br', 'heat', 'water', 'hosp', 'dmg', 'unit', 'name'].forEach(function (c) {
      nodes[c] = Array.prototype.slice.call(svgMap.querySelectorAll('.' + c));
    });
  }

  function setText(id, s) { var el = document.getElementById(id); if (el) el.textContent = s; }

  function updateMap(h) {
    if (!M || !svgMap) return;
    var k = Math.min(h, M.n - 1);
    nodes.area.forEach(function (el) { el.setAttribute('fill', color(A[+el.dataset.i].t[h])); });
    var st = M.pw[k];
    if (st) {
      var dark = new Set(st.dark), out = new Set(st.out), dmg = new Set(st.dmg);
      nodes.bus.forEach(function (el) { el.classList.toggle('dark', dark.has(+el.dataset.b)); });
      nodes.br.forEach(function (el) { el.classList.toggle('out', out.has(+el.dataset.k)); });
      nodes.dmg.forEach(function (el) { el.classList.toggle('repaired', !dmg.has(+el.dataset.d)); });
    }
    nodes.heat.forEach(function (el) {
      var p = M.heat[+el.dataset.h].d[k];
      el.setAttribute('class', 'heat ' + (p >= 99 ? 's-run' : p <= 0 ? 's-down' : 's-part'));
    });
    nodes.water.forEach(function (el) { el.setAttribute('class', 'water s-' + M.water[+el.dataset.w].d[k]); });
    nodes.hosp.forEach(function (el) { el.setAttribute('class', 'hosp s-' + M.fac[+el.dataset.f].d[k]); });
    nodes.unit.forEach(function (el) { el.classList.toggle('pending', M.units[+el.dataset.u].h > h + 1e-9); });
    setText('r-clock', clock(h));
    setText('r-hour', 'hour ' + h + ' of ' + M.n);
    setText('r-out', M.t_out.length ? fmt1(M.t_out[k]) + ' °C' : '—');
    ['light', 'heat', 'water'].forEach(function (s) {
      var v = M.people[s] || [];
      setText('r-' + s, k < v.length ? fmt(v[k]) : '—');
    });
    var cold = 0;
    M.areas.forEach(function (a, i) { if (A[i].t[h] < M.below) cold += a.pop; });
    setText('r-cold', fmt(cold));
  }

  function pct(v, what) {
    if (v === null || v === undefined) return what + ': —';
    if (v >= 100) return what + ': yes';
    if (v <= 0) return what + ': no';
    return what + ': ' + v + ' % of people';
  }

  function mapTip(el) {
    var k = Math.min(hour, M.n - 1), i;
    if (el.classList.contains('area')) {
      i = +el.dataset.i;
      var a = M.areas[i], d = A[i];
      var lines = [a.name,
        [(a.district ? 'in ' + a.district + ' · ' : '') + fmt(a.pop) + ' people', 'dim'],
        ['building type: ' + a.arch, 'dim'],
        'indoors ' + fmt1(d.t[hour]) + ' °C at ' + clock(hour) + ' (lowest ' + fmt1(a.min) + ' °C)',
        pct(d.light[k], 'light') + ' · ' + pct(d.heat[k], 'heat') + ' · ' + pct(d.water[k], 'water')];
      if (d.drained[k]) lines.push('heating drained against frost: needs a refill');
      return lines;
    }
    if (el.classList.contains('heat')) {
      var h = M.heat[+el.dataset.h], p = h.d[k];
      return [h.name, [(h.kind === 'chp' ? 'combined heat and power plant' : 'boiler house') +
        (h.mw ? ', ' + fmt(h.mw) + ' MW of heat' : ''), 'dim'],
        p >= 99 ? 'running' : p <= 0 ? 'down: no heat' : 'in part: ' + p + ' % of its heat (peak boilers)'];
    }
    if (el.classList.contains('water')) {
      var w = M.water[+el.dataset.w], s = w.d[k];
      return [w.name, ['water station, tanks for ' + fmt1(w.res) + ' h', 'dim'],
        s === 'pumps' ? 'pumps running on grid power' : s === 'tanks' ? 'pumps without power: the tanks carry its districts' : 'dry: pumps without power, tanks empty'];
    }
    if (el.classList.contains('hosp')) {
      var f = M.fac[+el.dataset.f], fs = f.d[k];
      return [f.name, [f.kind + ', backup power for ' + fmt(f.backup) + ' h', 'dim'],
        fs === 'mains' ? 'on mains power' : fs === 'backup' ? 'on its backup generator' : 'without power: past its backup'];
    }
    if (el.classList.contains('dmg')) {
      var g = M.damage[+el.dataset.d];
      return [g.name, ['damaged ' + g.kind, 'dim'],
        g.back === null || g.back === undefined ? 'not repaired within the horizon' :
          (g.back <= hour ? 'repaired at ' : 'repair ends ') + clock(g.back)];
    }
    if (el.classList.contains('bus')) {
      var b = +el.dataset.b, st = M.pw[k];
      return [M.buses[b], st && st.dark.indexOf(b) >= 0 ? 'without supply' : 'supplied'];
    }
    if (el.classList.contains('unit')) {
      var u = M.units[+el.dataset.u];
      return [u.kind === 'shelter' ? 'Warming shelter' : 'Mobile generator',
        ['at ' + u.name, 'dim'],
        (u.kind === 'shelter' ? fmt(u.size) + ' places' : fmt1(u.size) + ' MW') + ', from ' + clock(u.h)];
    }
    return null;
  }

  if (M && svgMap) {
    svgMap.addEventListener('mousemove', function (evt) {
      var el = evt.target.closest('.area,.heat,.water,.hosp,.dmg,.bus,.unit');
      if (!el) { hideTip(); return; }
      var lines = mapTip(el);
      if (lines) showTip(evt, lines); else hideTip();
    });
    svgMap.addEventListener('mouseleave', hideTip);
    document.querySelectorAll('input[data-layer]').forEach(function (cb) {
      cb.addEventListener('change', function () {
        svgMap.classList.toggle('hide-' + cb.dataset.layer, !cb.checked);
      });
    });
  }

  /* ---------------------------------------------------------------- charts */
  function chartHour(svg, c, evt) {
    var pt = svg.createSVGPoint();
    pt.x = evt.clientX; pt.y = evt.clientY;
    var p = pt.matrixTransform(svg.getScreenCTM().inverse());
    var h = Math.round((p.x - c.x0) / (c.x1 - c.x0) * c.h1);
    return Math.max(0, Math.min(Math.round(c.h1), h));
  }
  function moveCursors(h) {
    Object.keys(charts).forEach(function (id) {
      var c = charts[id], svg = document.getElementById(id);
      if (!svg) return;
      var cur = svg.querySelector('.cursor');
      if (!cur) return;
      var x = c.x0 + Math.min(h, c.h1) / c.h1 * (c.x1 - c.x0);
      cur.setAttribute('x1', x); cur.setAttribute('x2', x);
    });
  }
  Object.keys(charts).forEach(function (id) {
    var c = charts[id], svg = document.getElementById(id);
    if (!svg) return;
    var hover = svg.querySelector('.hover');
    if (hover && c.series && c.series.length) {
      hover.addEventListener('mousemove', function (evt) {
        var h = chartHour(svg, c, evt);
        var lines = [clock(h)];
        c.series.forEach(function (s) {
          var v = s.values[Math.min(h, s.values.length - 1)];
          lines.push(s.label + ': ' + (s.unit === '°C' ? fmt1(v) + ' °C' : fmt(v)));
        });
        showTip(evt, lines);
      });
      hover.addEventListener('mouseleave', hideTip);
    }
    if (hover && slider) {
      hover.addEventListener('click', function (evt) { setHour(chartHour(svg, c, evt)); });
    }
  });

  /* ---------------------------------------------------------------- the Gantt chart */
  var gantt = document.getElementById('gantt');
  if (gantt && D.plan) {
    gantt.addEventListener('mousemove', function (evt) {
      var el = evt.target.closest('.bar');
      if (!el) { hideTip(); return; }
      var r = D.plan[+el.dataset.r];
      var lines = [r.name, [r.kind + ' · crew ' + (r.crew + 1), 'dim'],
        clock(r.start_h) + ' → ' + clock(r.end_h) + ' (' + fmt1(r.end_h - r.start_h) + ' h)',
        'back when it ends: light ' + fmt(r.back.power) + ', heat ' + fmt(r.back.heat) + ', water ' + fmt(r.back.water)];
      if (r.with.length) lines.push(['ends together with ' + r.with.join(', '), 'dim']);
      showTip(evt, lines);
    });
    gantt.addEventListener('mouseleave', hideTip);
  }

  /* ---------------------------------------------------------------- plain tooltips */
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    svg.addEventListener('mousemove', function (evt) {
      var el = evt.target.closest('[data-tip]');
      if (el) showTip(evt, el.dataset.tip.split('\n'));
    });
    svg.addEventListener('mouseout', function (evt) {
      if (evt.target.closest('[data-tip]')) hideTip();
    });
  });

  /* ---------------------------------------------------------------- the hour */
  var timer = null;
  function setHour(h) {
    hour = Math.max(0, Math.min(+slider.max, h));
    slider.value = hour;
    updateMap(hour);
    moveCursors(hour);
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (play) { play.textContent = '▶ Play'; play.setAttribute('aria-label', 'play the hours'); }
  }
  if (slider) {
    slider.addEventListener('input', function () { stop(); setHour(+slider.value); });
    setHour(+slider.value);
  }
  if (play && slider) {
    play.addEventListener('click', function () {
      if (timer) { stop(); return; }
      if (hour >= +slider.max) setHour(0);
      play.textContent = '❚❚ Pause';
      play.setAttribute('aria-label', 'pause');
      var step = Math.max(1, Math.round(+slider.max / 120));
      timer = setInterval(function () {
        if (hour >= +slider.max) { stop(); return; }
        setHour(hour + step);
      }, 90);
    });
  }
  if (!slider) moveCursors(0);
  document.body.dataset.ready = '1';
})();
