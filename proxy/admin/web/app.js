/*
 * stopgate compliance dashboard. Talks to the admin API of the daemon that
 * served it, with the token kept in sessionStorage and sent as a bearer
 * header (never in a URL, never in a cookie). Everything from the API is
 * put on the page with textContent: a subscriber's text is shown as
 * text, never parsed as markup: no HTML is ever assigned as a string.
 */
"use strict";

(function () {
  var KEY = "stopgate.token";
  var me = null;          /* {name, role, shared_token} */
  var liveTimer = null;
  var liveLast = null;
  var auditAfter = [];    /* cursors of the pages seen, for "next" */

  function $(id) { return document.getElementById(id); }

  /* A new element with attributes and children (strings become text). */
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    var k;
    for (k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) {
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    var k;
    for (k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function showError(msg) {
    var e = $("error");
    e.textContent = msg;
    e.hidden = !msg;
  }

  function showNotice(form, msg) {
    var n = form.querySelector(".notice");
    if (!n) {
      n = el("p", { "class": "notice", role: "status" });
      form.appendChild(n);
    }
    n.textContent = msg;
  }

  /* Call the API: resolves with the parsed JSON (or text), rejects with an
   * Error whose message is "STATUS: the API's error". */
  function api(method, path, body, raw) {
    var opt = { method: method, headers: {}, credentials: "omit",
      cache: "no-store", referrerPolicy: "no-referrer" };
    opt.headers.Authorization = "Bearer " + sessionStorage.getItem(KEY);
    if (body !== undefined) {
      opt.headers["Content-Type"] = "application/json";
      opt.body = JSON.stringify(body);
    }
    return fetch(path, opt).then(function (res) {
      if (res.status === 401 && path !== "/v1/whoami") signOut();
      if (raw && res.ok) return res;
      return res.text().then(function (t) {
        var j = null;
        try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
        if (!res.ok) {
          var err = new Error(res.status + ": " +
            (j && j.error ? j.error : res.statusText));
          err.status = res.status;
          throw err;
        }
        return j;
      });
    });
  }

  function fmtTime(t) {
    return t ? t.replace("T", " ").replace("Z", " UTC") : "";
  }

  function fmtAge(s) {
    if (s < 120) return s + " s";
    if (s < 7200) return Math.floor(s / 60) + " min";
    if (s < 172800) return Math.floor(s / 3600) + " h";
    return Math.floor(s / 86400) + " days";
  }

  function cell(text, cls) {
    return el("td", cls ? { "class": cls, text: text } : { text: text });
  }

  /* --- sign in ---------------------------------------------------------- */

  function signOut() {
    sessionStorage.removeItem(KEY);
    me = null;
    stopLive();
    $("nav").hidden = true;
    $("signout").hidden = true;
    $("who").textContent = "";
    document.querySelectorAll(".page").forEach(function (p) {
      p.hidden = true;
    });
    $("signin").hidden = false;
  }

  function signedIn(who) {
    me = who;
    $("signin").hidden = true;
    $("nav").hidden = false;
    $("signout").hidden = false;
    $("who").textContent = who.name + " (" + who.role + ")";
    document.body.setAttribute("data-role", who.role);
    route();
  }

  function trySignIn() {
    return api("GET", "/v1/whoami").then(signedIn, function (e) {
      sessionStorage.removeItem(KEY);
      showError(e.status === 401 ? "That token is not valid." : e.message);
      signOut();
    });
  }

  /* --- routing ---------------------------------------------------------- */

  var pages = {
    overview: loadOverview, number: loadNumber, review: loadReview,
    audit: loadAudit, live: loadLive
  };

  function route() {
    var name = (location.hash || "#overview").slice(1).split("/")[0];
    if (!me) return;
    if (!pages[name]) name = "overview";
    showError("");
    stopLive();
    document.querySelectorAll(".page").forEach(function (p) {
      p.hidden = p.id !== "page-" + name;
    });
    document.querySelectorAll("nav a").forEach(function (a) {
      a.classList.toggle("active", a.getAttribute("data-page") === name);
    });
    document.body.setAttribute("data-page", name);
    pages[name]();
  }

  /* --- overview --------------------------------------------------------- */

  /* Stacked bars: one <g class="day"> per day, one <rect class="seg"> per
   * non-zero series in it; flags (class "spike") over the days given. */
  function drawStacked(svgEl, days, series, flags, height) {
    var W = 900, H = height, L = 34, B = 22, T = 14;
    var n = days.length, bw = (W - L - 4) / n;
    var names = Object.keys(series);
    var max = 1, i, j, y, v, tot, g, h;
    clear(svgEl);
    for (i = 0; i < n; i++) {
      tot = 0;
      names.forEach(function (s) { tot += series[s][i]; });
      if (tot > max) max = tot;
    }
    svgEl.appendChild(svg("line", { "class": "axis", x1: L, y1: H - B,
      x2: W, y2: H - B }));
    [0, max].forEach(function (m) {
      var t = svg("text", { x: L - 4, y: H - B - (H - B - T) * m / max + 3,
        "text-anchor": "end" });
      t.textContent = String(m);
      svgEl.appendChild(t);
    });
    for (i = 0; i < n; i++) {
      g = svg("g", { "class": "day", "data-day": days[i] });
      y = H - B;
      tot = 0;
      for (j = 0; j < names.length; j++) {
        v = series[names[j]][i];
        if (!v) continue;
        tot += v;
        h = (H - B - T) * v / max;
        y -= h;
        var r = svg("rect", { "class": "seg c" + (j % 8), x: L + i * bw + 0.5,
          y: y, width: Math.max(bw - 1, 1), height: h,
          "data-series": names[j], "data-count": v });
        var tip = svg("title");
        tip.textContent = days[i] + " " + names[j] + ": " + v;
        r.appendChild(tip);
        g.appendChild(r);
      }
      g.setAttribute("data-total", tot);
      svgEl.appendChild(g);
      if (i % 15 === 0 || i === n - 1) {
        var lab = svg("text", { x: L + i * bw, y: H - 6 });
        lab.textContent = days[i].slice(5);
        svgEl.appendChild(lab);
      }
    }
    (flags || []).forEach(function (f) {
      var x = L + f.index * bw + bw / 2;
      var p = svg("path", { "class": "spike", "data-day": f.day,
        d: "M" + (x - 5) + " 2 L" + (x + 5) + " 2 L" + x + " 11 Z" });
      var tip = svg("title");
      tip.textContent = f.day + ": " + f.optouts + " opt-outs, median of " +
        "the 28 days before " + f.median;
      p.appendChild(tip);
      svgEl.appendChild(p);
    });
  }

  function legend(node, names, label) {
    clear(node);
    names.forEach(function (s, j) {
      node.appendChild(el("span", {}, [el("i", { "class": "c" + (j % 8) }),
        label ? label(s) : s]));
    });
  }

  function catName(c) { return c === "*" ? "all categories" : c; }

  var REASONS = { opted_out: "opted out", frequency_cap: "frequency cap",
    quiet_hours: "quiet hours" };

  /* "0x00000402" -> "frequency cap 0x402": the reason the config gives
   * the status, else the status alone. */
  function rejName(st, reasons) {
    var why = reasons && reasons[st];
    var hex = "0x" + parseInt(st, 16).toString(16);
    return why ? (REASONS[why] || why) + " " + hex : st;
  }

  function sum(v) {
    return (v || []).reduce(function (a, b) { return a + b; }, 0);
  }

  function loadOverview() {
    api("GET", "/v1/series?days=90").then(function (s) {
      $("ov-range").textContent = s.from + " to " + s.to;
      legend($("ov-legend"), Object.keys(s.optouts_by_category), catName);
      drawStacked($("chart-optouts"), s.days, s.optouts_by_category,
        s.spikes, 240);
      $("ov-spikes").textContent = s.spikes.length ? "Spikes: " +
        s.spikes.map(function (f) {
          return f.day + " (" + f.optouts + ", median " + f.median + ")";
        }).join(", ") : "No spike in these days.";
      var rej = {};
      Object.keys(s.rejected).forEach(function (st) {
        rej[rejName(st, s.rejected_reasons)] = s.rejected[st];
      });
      legend($("rej-legend"), Object.keys(rej));
      drawStacked($("chart-rejected"), s.days, rej, [], 200);
      $("ov-less").textContent = "Fewer texts (LESS) in these days: " +
        sum(s.events.less) + ", not counted as opt-outs.";
      var tb = $("stop-rate").tBodies[0];
      clear(tb);
      s.stop_rate.forEach(function (r) {
        tb.appendChild(el("tr", {}, [cell(r.account), cell(r.category),
          cell(String(r.forwarded)), cell(String(r.attributed)),
          cell(r.rate === null ? "–" : (100 * r.rate).toFixed(2) + " %")]));
      });
      if (!s.stop_rate.length)
        tb.appendChild(el("tr", {}, [el("td", { colspan: 5,
          text: "Nothing forwarded in these days." })]));
    }, function (e) { showError(e.message); });
  }

  /* --- number ----------------------------------------------------------- */

  var shownNumber = null;

  function catBoxes(form, cats) {
    var fs = form.querySelector("fieldset.cats");
    clear(fs);
    fs.appendChild(el("label", {}, [el("input", { type: "checkbox",
      name: "all", value: "all" }), "all categories"]));
    cats.forEach(function (c) {
      fs.appendChild(el("label", {}, [el("input", { type: "checkbox",
        name: "cat", value: c }), c]));
    });
  }

  function scopeOf(form) {
    var cats = [];
    form.querySelectorAll("input[name=cat]:checked").forEach(function (b) {
      cats.push(b.value);
    });
    if (form.querySelector("input[name=all]").checked) return { all: true };
    return { categories: cats };
  }

  /* 86400 -> "1 d": the window of a frequency cap. */
  function fmtPer(s) {
    var u = [[86400, "d"], [3600, "h"], [60, "min"]], i;
    for (i = 0; i < u.length; i++)
      if (s >= u[i][0] && s % u[i][0] === 0)
        return s / u[i][0] + " " + u[i][1];
    return s + " s";
  }

  /* A capped category's preferences (SPEC §9), as `stopgate status`
   * shows them: LESS, and what the cap leaves in its window. */
  function prefsText(x) {
    if (x.max === undefined) return "";
    return (x.less ? "fewer texts (LESS) since " + fmtTime(x.less_since) +
      " · " : "") + x.left + " of " + x.max + " left per " + fmtPer(x.per_s);
  }

  function showNumber(num) {
    showError("");
    return Promise.all([
      api("GET", "/v1/numbers/" + encodeURIComponent(num)),
      api("GET", "/v1/numbers/" + encodeURIComponent(num) + "/history")
    ]).then(function (res) {
      var st = res[0], hist = res[1];
      var tb = $("number-status").tBodies[0], cats = [];
      shownNumber = st.number;
      $("number-shown").textContent = st.number;
      $("number-result").hidden = false;
      clear(tb);
      Object.keys(st.categories).forEach(function (c) {
        var x = st.categories[c];
        cats.push(c);
        tb.appendChild(el("tr", { "data-category": c,
          "data-less": x.less ? "1" : "0" }, [cell(c),
          cell(x.status, "status-" + x.status), cell(fmtTime(x.since)),
          cell(x.event_id ? "#" + x.event_id + " (" + x.scope + ")" : ""),
          cell(prefsText(x), "prefs")]));
      });
      catBoxes($("optout-form"), cats);
      catBoxes($("optin-form"), cats);
      var hb = $("number-history").tBodies[0];
      clear(hb);
      hist.events.forEach(function (ev) {
        var who = ev.actor || ev.inbound || "";
        var words = [ev.text, ev.note, ev.consent ? "consent: " +
          ev.consent : ""].filter(Boolean).join(" · ");
        var last = ev.last_sent ? ev.last_sent.account + "/" +
          ev.last_sent.category + " " + fmtTime(ev.last_sent.time) : "";
        hb.appendChild(el("tr", { "data-event": ev.event_id }, [
          cell(fmtTime(ev.time)), cell(ev.action), cell(ev.scope),
          cell(ev.source), cell(who, "actor"), cell(words, "text"),
          cell(last)]));
      });
      if (!hist.events.length)
        hb.appendChild(el("tr", {}, [el("td", { colspan: 7,
          text: "No event for this number." })]));
    }, function (e) {
      $("number-result").hidden = true;
      showError(e.message);
    });
  }

  function loadNumber() {
    var m = location.hash.match(/^#number\/(.+)$/);
    if (m) {
      $("number-input").value = decodeURIComponent(m[1]);
      showNumber(decodeURIComponent(m[1]));
    }
  }

  function change(form, path, extra) {
    var body = scopeOf(form);
    var k;
    body.number = shownNumber;
    body.note = form.elements.note.value;
    for (k in extra) body[k] = extra[k];
    showError("");
    return api("POST", path, body).then(function (ev) {
      showNotice(form, "Recorded as event #" + ev.event_id + " by " +
        ev.actor + ".");
      form.reset();
      return showNumber(shownNumber);
    }, function (e) { showError(e.message); });
  }

  /* --- review ----------------------------------------------------------- */

  function resolve(id, decision, note) {
    showError("");
    return api("POST", "/v1/review/" + id + "/resolve",
      { decision: decision, note: note }).then(loadReview, function (e) {
      showError(e.message);
    });
  }

  function loadReview() {
    api("GET", "/v1/review?limit=1000").then(function (r) {
      var tb = $("review-table").tBodies[0];
      clear(tb);
      $("review-empty").hidden = r.items.length > 0;
      r.items.forEach(function (it) {
        var note = el("input", { "class": "note", placeholder: "note" });
        var out = el("button", { type: "button", "class": "optout",
          text: "Opt out" });
        var dis = el("button", { type: "button", "class": "dismiss secondary",
          text: "Dismiss" });
        out.addEventListener("click", function () {
          resolve(it.id, "optout", note.value);
        });
        dis.addEventListener("click", function () {
          resolve(it.id, "dismiss", note.value);
        });
        tb.appendChild(el("tr", { "data-id": it.id }, [cell(String(it.id)),
          cell(fmtAge(it.age_seconds)), cell(it.number), cell(it.inbound),
          cell(it.account), cell(it.text, "text"), el("td", {}, [note]),
          el("td", {}, [out, " ", dis])]));
      });
    }, function (e) { showError(e.message); });
  }

  /* --- audit ------------------------------------------------------------ */

  function auditQuery(after, fmt, limit) {
    var f = $("audit-form"), q = [];
    ["since", "until", "number", "account", "category",
      "reason"].forEach(function (k) {
      var v = f.elements[k].value.trim();
      if (v) q.push(k + "=" + encodeURIComponent(v));
    });
    q.push("limit=" + limit);
    if (after) q.push("after=" + encodeURIComponent(after));
    if (fmt) q.push("format=" + fmt);
    return "/v1/audit?" + q.join("&");
  }

  function auditPage(after) {
    showError("");
    return api("GET", auditQuery(after, null, 50)).then(function (r) {
      var tb = $("audit-table").tBodies[0];
      clear(tb);
      r.records.forEach(function (a) {
        tb.appendChild(el("tr", { "data-id": a.id }, [cell(fmtTime(a.time)),
          cell(a.account), cell(a.category), cell(a.source),
          cell(a.destination), cell(a.status), cell(a.reason)]));
      });
      $("audit-count").textContent = "page " + auditAfter.length + ", " +
        r.records.length + " records";
      $("audit-next").disabled = !r.more;
      $("audit-next").setAttribute("data-next", r.next || "");
    }, function (e) { showError(e.message); });
  }

  function loadAudit() {
    auditAfter = [null];
    auditPage(null);
  }

  /* Every matching record, a page of 1000 at a time, into one file. */
  function auditCsv() {
    var parts = [];
    function step(after) {
      return api("GET", auditQuery(after, "csv", 1000), undefined, true)
        .then(function (res) {
          var next = res.headers.get("X-Next-After");
          return res.text().then(function (t) {
            parts.push(t);
            return next ? step(next) : null;
          });
        });
    }
    showError("");
    step(null).then(function () {
      var url = URL.createObjectURL(new Blob(parts, { type: "text/csv" }));
      var a = el("a", { href: url, download: "stopgate-audit.csv" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }, function (e) { showError(e.message); });
  }

  /* --- live ------------------------------------------------------------- */

  function stopLive() {
    if (liveTimer) clearInterval(liveTimer);
    liveTimer = null;
    liveLast = null;
  }

  function rate(now, last, f) {
    if (!last || now.ms <= last.ms) return "–";
    return ((f(now) - f(last)) * 1000 / (now.ms - last.ms)).toFixed(1);
  }

  function liveTick() {
    api("GET", "/v1/live").then(function (v) {
      var last = liveLast, ub = $("live-upstreams").tBodies[0];
      var ab = $("live-accounts").tBodies[0];
      $("live-sessions").textContent = String(v.sessions);
      $("live-fwd").textContent = rate(v, last, function (x) {
        return x.submits_forwarded;
      });
      $("live-rej").textContent = rate(v, last, function (x) {
        return x.submits_rejected_optout;
      });
      $("live-when").textContent = "updated " +
        new Date().toISOString().slice(11, 19) + " UTC, every 2 s";
      clear(ub);
      v.upstreams.forEach(function (u, i) {
        var lu = last && last.upstreams[i] && last.upstreams[i].name ===
          u.name ? last : null;
        ub.appendChild(el("tr", { "data-upstream": u.name }, [cell(u.name),
          cell(u.bound ? "yes" : "no", u.bound ? "status-allowed" :
            "status-blocked"),
          cell(u.connections_bound + " / " + u.connections),
          cell(String(u.in_flight)),
          cell(rate(v, lu, function (x) { return x.upstreams[i].submits; })),
          cell(String(u.submits)), cell(String(u.delivers)),
          cell(String(u.reconnects))]));
      });
      clear(ab);
      v.accounts.forEach(function (a) {
        ab.appendChild(el("tr", { "data-account": a.system_id },
          [cell(a.system_id), cell(String(a.bound))]));
      });
      liveLast = v;
    }, function (e) { showError(e.message); });
  }

  function loadLive() {
    liveTick();
    liveTimer = setInterval(liveTick, 2000);
  }

  /* --- wiring ----------------------------------------------------------- */

  document.addEventListener("DOMContentLoaded", function () {
    $("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      sessionStorage.setItem(KEY, $("token").value);
      $("token").value = "";
      showError("");
      trySignIn();
    });
    $("signout").addEventListener("click", signOut);
    $("number-form").addEventListener("submit", function (ev) {
      var n = $("number-input").value.trim();
      ev.preventDefault();
      if (location.hash !== "#number/" + encodeURIComponent(n))
        location.hash = "#number/" + encodeURIComponent(n);
      else
        showNumber(n);
    });
    $("optout-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      change(ev.target, "/v1/optouts", {});
    });
    $("optin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      change(ev.target, "/v1/optins",
        { consent: ev.target.elements.consent.value });
    });
    $("audit-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      loadAudit();
    });
    $("audit-first").addEventListener("click", loadAudit);
    $("audit-next").addEventListener("click", function () {
      var n = $("audit-next").getAttribute("data-next");
      auditAfter.push(n);
      auditPage(n);
    });
    $("audit-csv").addEventListener("click", auditCsv);
    window.addEventListener("hashchange", route);
    if (sessionStorage.getItem(KEY)) trySignIn();
    else signOut();
  });
})();
