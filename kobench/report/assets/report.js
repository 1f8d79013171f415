// kobench report: the sample browser. Reads the page's JSON blocks (kobench-meta, and each task's
// kobench-task-N / kobench-images-N only when that task is chosen), filters its rows and draws PAGE rows
// at a time. Every text from the results goes in through textContent, never as HTML.
(function () {
  "use strict";
  const PAGE = 100;
  const byId = (id) => document.getElementById(id);
  const meta = JSON.parse(byId("kobench-meta").textContent);
  const loaded = {};
  const state = {
    category: "", task: 0, a: -1, b: -1, pipeline: "kobench", status: "", compare: "", field: "",
    search: "", page: 0,
  };
  let matching = [];

  function taskData(n) {
    if (!loaded[n]) {
      const data = JSON.parse(byId("kobench-task-" + n).textContent);
      const images = byId("kobench-images-" + n);
      data.images = images ? JSON.parse(images.textContent) : {};
      data.blobs = {};
      loaded[n] = data;
    }
    return loaded[n];
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function addOption(select, value, label) {
    const option = el("option", null, label);
    option.value = String(value);
    select.appendChild(option);
    return option;
  }

  function number(value) {
    if (value === null || value === undefined) return "–";
    return Math.abs(value) >= 100 || Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
  }

  // --- what a row is, per model ---------------------------------------------------------------------

  function key() { return state.pipeline === "kobench" ? "k" : "q"; }

  function answers(data, model) { return model >= 0 ? data.answers[String(model)] || [] : []; }

  function better(x, y, lowerWins) {
    if (x === null || x === undefined) return false;
    if (y === null || y === undefined) return true;
    return lowerWins ? x < y : x > y;
  }

  function blob(data, pos) {
    // The text search reads the row's id, prompt, target, categories and both models' answers.
    const cacheKey = state.a + "/" + state.b + "/" + pos;
    if (data.blobs[cacheKey] === undefined) {
      const row = data.rows[pos];
      const parts = [row.id, row.p, row.t, ...Object.values(row.f)];
      for (const model of [state.a, state.b]) {
        const ans = answers(data, model)[pos];
        if (ans) parts.push(ans.a, ans.k[0], ans.q[0], ans.e, ans.j, ans.p);
      }
      data.blobs[cacheKey] = parts.filter((p) => p).join("\n").normalize("NFC").toLowerCase();
    }
    return data.blobs[cacheKey];
  }

  function filtered(data) {
    const k = key();
    const lowerWins = (data.summary[String(state.a)] || {}).direction === "lower";
    const colA = answers(data, state.a);
    const colB = answers(data, state.b);
    const query = state.search.trim().normalize("NFC").toLowerCase();
    const [fieldName, fieldValue] = state.field ? JSON.parse(state.field) : [null, null];
    const out = [];
    for (let pos = 0; pos < data.rows.length; pos++) {
      const row = data.rows[pos];
      const a = colA[pos];
      if (state.status) {
        if (!a) continue;
        if (state.status === "truncated" ? !a.t : a[k][2] !== state.status) continue;
      }
      if (fieldName !== null && row.f[fieldName] !== fieldValue) continue;
      if (state.compare && state.b >= 0) {
        const b = colB[pos];
        if (!a || !b) continue;
        const [pa, sa] = a[k];
        const [pb, sb] = b[k];
        if (state.compare === "disagree" && pa === pb && sa === sb) continue;
        if (state.compare === "a-better" && !better(sa, sb, lowerWins)) continue;
        if (state.compare === "b-better" && !better(sb, sa, lowerWins)) continue;
      }
      if (query && !blob(data, pos).includes(query)) continue;
      out.push(pos);
    }
    return out;
  }

  // --- drawing ---------------------------------------------------------------------------------------

  function summaryLine(label, name, s) {
    const line = el("div");
    line.appendChild(el("b", null, label + " " + name + ": "));
    let text = s.metric + " " + (s.value === null ? "–" : s.value.toFixed(1));
    if (s.ci[0] !== null && s.ci[1] !== null) text += " [" + s.ci[0].toFixed(1) + ", " + s.ci[1].toFixed(1) + "]";
    text += " · n " + s.n + " / " + s.n_rows + " · unparsed " + (s.unparsed[state.pipeline] ?? "–");
    text += " · failed " + s.failed + " · truncated " + (s.truncated ?? "–");
    if (!s.complete) text += " · incomplete";
    if (s.judge) text += " · judge " + s.judge;
    line.appendChild(document.createTextNode(text + " · "));
    line.appendChild(el("code", null, s.signature));
    return line;
  }

  function drawSummary(data) {
    const box = byId("task-summary");
    box.replaceChildren();
    const models = [[state.a, "A"], [state.b, "B"]];
    for (const [model, label] of models) {
      const s = data.summary[String(model)];
      if (model >= 0 && s) box.appendChild(summaryLine(label, meta.models[model], s));
    }
    const notes = byId("task-notes");
    notes.replaceChildren(...meta.tasks[state.task].notes.map((n) => el("li", null, n)));
  }

  function parsedLine(name, verdict) {
    const line = el("div", "parsed");
    line.appendChild(document.createTextNode(name + ": "));
    line.appendChild(el("b", null, verdict[0] === null ? "(unparsed)" : verdict[0]));
    line.appendChild(document.createTextNode(" · score " + number(verdict[1])));
    return line;
  }

  function answerCell(ans) {
    const cell = el("td", "answer");
    if (!ans) {
      cell.appendChild(el("span", "missing", "no answer in these results"));
      return cell;
    }
    const verdict = ans[key()][2];
    cell.classList.add("v-" + verdict);
    cell.dataset.verdict = verdict;
    cell.appendChild(el("span", "badge v-" + verdict, verdict));
    if (ans.t) cell.appendChild(el("span", "badge truncated", "truncated"));
    cell.appendChild(el("pre", null, ans.a || (ans.e ? "" : "(empty answer)")));
    if (ans.e) cell.appendChild(el("div", "error", "failed: " + ans.e));
    if (!ans.e) {
      cell.appendChild(parsedLine("kobench", ans.k));
      cell.appendChild(parsedLine("protocol", ans.q));
    }
    for (const [field, label] of [["j", "judge"], ["jq", "judge (protocol)"]]) {
      if (!ans[field]) continue;
      const details = el("details");
      details.appendChild(el("summary", null, label));
      details.appendChild(el("pre", null, ans[field]));
      cell.appendChild(details);
    }
    return cell;
  }

  function promptCell(row, override) {
    const cell = el("td", "question");
    const text = override || row.p;
    const prompt = el("div", "prompt", text);
    if (text.split("\n").length > 7 || text.length > 350) prompt.classList.add("long");
    prompt.addEventListener("click", () => prompt.classList.toggle("open"));
    cell.appendChild(prompt);
    const fields = Object.entries(row.f).map(([k, v]) => k + ": " + v).join(" · ");
    if (fields) cell.appendChild(el("div", "fields", fields));
    return cell;
  }

  function drawHead(withImages) {
    const tr = el("tr");
    tr.appendChild(el("th", "idx", "#"));
    if (withImages) tr.appendChild(el("th", "thumbs", "image"));
    tr.appendChild(el("th", "question", "prompt"));
    tr.appendChild(el("th", "target", "target"));
    tr.appendChild(el("th", "answer", "A: " + (state.a >= 0 ? meta.models[state.a] : "–")));
    if (state.b >= 0) tr.appendChild(el("th", "answer", "B: " + meta.models[state.b]));
    byId("rows").tHead.replaceChildren(tr);
  }

  function drawRows() {
    const data = taskData(state.task);
    const withImages = meta.images && Object.keys(data.images).length > 0;
    drawHead(withImages);
    const body = byId("rows").tBodies[0];
    const start = state.page * PAGE;
    const colA = answers(data, state.a);
    const colB = answers(data, state.b);
    const rows = [];
    for (const pos of matching.slice(start, start + PAGE)) {
      const row = data.rows[pos];
      const tr = el("tr", "sample");
      tr.dataset.id = row.id;
      const idx = el("td", "idx", row.i);
      idx.appendChild(el("div", null, row.id));
      tr.appendChild(idx);
      if (withImages) {
        const cell = el("td", "thumbs");
        for (const imageKey of row.img || []) {
          const img = el("img");
          img.alt = "image of " + row.id;
          img.decoding = "async";
          img.src = data.images[imageKey];
          cell.appendChild(img);
        }
        tr.appendChild(cell);
      }
      tr.appendChild(promptCell(row, colA[pos] && colA[pos].p));
      tr.appendChild(el("td", "target", row.t));
      tr.appendChild(answerCell(colA[pos]));
      if (state.b >= 0) tr.appendChild(answerCell(colB[pos]));
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    const total = data.rows.length;
    const shown = matching.length;
    const first = shown ? start + 1 : 0;
    byId("count").textContent = shown === total
      ? total.toLocaleString("en") + " rows"
      : shown.toLocaleString("en") + " of " + total.toLocaleString("en") + " rows match";
    byId("rows").dataset.matching = String(shown);
    byId("page").textContent = shown ? "rows " + first + "–" + Math.min(start + PAGE, shown) : "no rows";
    byId("prev").disabled = state.page === 0;
    byId("next").disabled = start + PAGE >= shown;
  }

  function refresh() {
    const data = taskData(state.task);
    matching = filtered(data);
    state.page = 0;
    drawSummary(data);
    drawRows();
  }

  // --- controls --------------------------------------------------------------------------------------

  function fillTasks() {
    const select = byId("task");
    select.replaceChildren();
    const groups = {};
    meta.tasks.forEach((task, n) => {
      if (state.category && task.category !== state.category) return;
      if (!groups[task.category]) {
        groups[task.category] = el("optgroup");
        groups[task.category].label = task.category;
        select.appendChild(groups[task.category]);
      }
      addOption(groups[task.category], n, task.name + " (" + task.rows.toLocaleString("en") + " rows)");
    });
    if (!select.querySelector('option[value="' + state.task + '"]') && select.options.length) {
      state.task = Number(select.options[0].value);
    }
    select.value = String(state.task);
  }

  function fillModels() {
    const task = meta.tasks[state.task];
    const selectA = byId("model-a");
    const selectB = byId("model-b");
    const keepA = state.a >= 0 ? meta.models[state.a] : null;
    const keepB = state.b >= 0 ? meta.models[state.b] : null;
    selectA.replaceChildren();
    selectB.replaceChildren();
    addOption(selectB, -1, "none");
    for (const model of task.models) {
      addOption(selectA, model, meta.models[model]);
      addOption(selectB, model, meta.models[model]);
    }
    const has = (name) => name !== null && task.models.includes(meta.models.indexOf(name));
    state.a = has(keepA) ? meta.models.indexOf(keepA) : (task.models.length ? task.models[0] : -1);
    state.b = has(keepB) && meta.models.indexOf(keepB) !== state.a ? meta.models.indexOf(keepB) : -1;
    selectA.value = String(state.a);
    selectB.value = String(state.b);
    byId("compare").disabled = state.b < 0;
  }

  function fillFields() {
    const data = taskData(state.task);
    const select = byId("field");
    select.replaceChildren();
    addOption(select, "", "all");
    const values = {};
    for (const row of data.rows) {
      for (const [name, value] of Object.entries(row.f)) {
        (values[name] = values[name] || new Set()).add(value);
      }
    }
    for (const name of Object.keys(values).sort()) {
      if (values[name].size > 60) continue; // free text, not a category
      for (const value of [...values[name]].sort()) addOption(select, JSON.stringify([name, value]), name + ": " + value);
    }
    state.field = "";
    select.value = "";
  }

  function chooseTask() {
    fillModels();
    fillFields();
    refresh();
  }

  function init() {
    if (!meta.tasks.length) {
      byId("count").textContent = "These results hold no task.";
      return;
    }
    const categories = byId("category");
    for (const category of [...new Set(meta.tasks.map((t) => t.category))]) addOption(categories, category, category);
    fillTasks();
    categories.addEventListener("change", () => {
      state.category = categories.value;
      fillTasks();
      chooseTask();
    });
    byId("task").addEventListener("change", (e) => { state.task = Number(e.target.value); chooseTask(); });
    byId("model-a").addEventListener("change", (e) => {
      state.a = Number(e.target.value);
      if (state.a === state.b) { state.b = -1; byId("model-b").value = "-1"; }
      byId("compare").disabled = state.b < 0;
      refresh();
    });
    byId("model-b").addEventListener("change", (e) => {
      state.b = Number(e.target.value) === state.a ? -1 : Number(e.target.value);
      e.target.value = String(state.b);
      byId("compare").disabled = state.b < 0;
      refresh();
    });
    for (const [id, name] of [["pipeline", "pipeline"], ["status", "status"], ["compare", "compare"], ["field", "field"]]) {
      byId(id).addEventListener("change", (e) => { state[name] = e.target.value; refresh(); });
    }
    let timer = null;
    byId("search").addEventListener("input", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => { state.search = e.target.value; refresh(); }, 150);
    });
    byId("prev").addEventListener("click", () => { state.page -= 1; drawRows(); });
    byId("next").addEventListener("click", () => { state.page += 1; drawRows(); });
    chooseTask();
  }

  init();
  document.documentElement.dataset.ready = "1";
  document.documentElement.dataset.readyMs = String(Math.round(performance.now())); // bench/html_report_open.py
  window.kobenchReport = { state, refresh, matching: () => matching.length };
})();
