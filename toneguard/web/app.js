// The page at / of `toneguard serve`: check the draft as it is typed, mark the findings in place,
// list them with their rewrites, apply one with a click. It talks to /api/check only; offsets in
// the report count code points, a JavaScript string counts UTF-16 units, so they are converted.
"use strict";

const DEBOUNCE_MS = 300;
const draft = document.getElementById("draft");
const backdrop = document.getElementById("backdrop");
const stage = document.getElementById("stage");
const recipients = document.getElementById("recipients");
const list = document.getElementById("list");
const summary = document.getElementById("summary");
const notice = document.getElementById("notice");

let checked = {text: null, findings: []};  // the last answer, and the text it is for
let openKey = null;  // the finding whose details are shown, kept across checks
let timer = null;
let inFlight = null;
let sequence = 0;

// --- offsets ------------------------------------------------------------------------------

function unitsOf(text) {  // code-point offset -> UTF-16 index, one entry per code point and the end
  const units = [];
  let index = 0;
  for (const character of text) { units.push(index); index += character.length; }
  units.push(index);
  return units;
}

function codePointAt(units, unitIndex) {  // the code-point offset of a UTF-16 index
  let low = 0, high = units.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (units[middle] <= unitIndex) low = middle; else high = middle - 1;
  }
  return low;
}

// Where a finding is shown: its own words or, for a finding about the whole letter (none of its
// rewrites touches its words, as with a missing thank-you), where its first rewrite goes.
function anchor(v) {
  const own = v.suggestions.some(s => s.start < v.end && s.end > v.start && s.end > s.start);
  if (v.suggestions.length && !own) return [v.suggestions[0].start, v.suggestions[0].end];
  return [v.start, v.end];
}

// --- checking -------------------------------------------------------------------------------

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(check, DEBOUNCE_MS);
}

function addresses() {
  return recipients.value.split(/[,;\s]+/).filter(Boolean);
}

async function check() {
  clearTimeout(timer);
  const text = draft.value;
  if (!text.trim()) {
    checked = {text, findings: []};
    render();
    say(summary, "Type or paste your draft to check it.");
    return;
  }
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  const mine = ++sequence;
  try {
    const response = await fetch("/api/check", {
      method: "POST", signal: inFlight.signal, headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text, path: "draft.txt", stage: stage.value, recipients: addresses()}),
    });
    const body = response.ok ? await response.json() : await response.text();
    if (mine !== sequence) return;  // a newer check is on its way
    if (!response.ok) {
      checked = {text, findings: []};
      render();
      say(summary, "Could not check this draft: " + body.replace(/^Error: /, ""));
      return;
    }
    checked = {text, findings: body.files[0].violations};
    render();
    announce();
  } catch (problem) {
    if (problem.name !== "AbortError" && mine === sequence) {
      say(summary, "Could not reach toneguard. Is `toneguard serve` still running?");
    }
  }
}

function announce() {
  const counts = {error: 0, warning: 0, info: 0};
  for (const v of checked.findings) counts[v.severity] += 1;
  const total = checked.findings.length;
  if (!total) { say(summary, "Nothing to change: the tone reads well."); return; }
  const parts = [["error", "serious"], ["warning", "worth fixing"], ["info", "to consider"]]
    .filter(([key]) => counts[key]).map(([key, words]) => `${counts[key]} ${words}`);
  say(summary, `${total} ${total === 1 ? "thing" : "things"} to change: ${parts.join(", ")}.`);
}

function say(element, words) {
  if (element.textContent !== words) element.textContent = words;
}

// --- showing ---------------------------------------------------------------------------------

function keyOf(v) { return `${v.rule}\u0000${v.text}\u0000${v.message}`; }

function render() {
  renderMarks(draft.value === checked.text ? checked.findings : []);
  list.replaceChildren(...checked.findings.map((v, i) => item(v, i)));
}

function renderMarks(findings) {
  const text = draft.value;
  const units = unitsOf(text);
  const rank = {info: 1, warning: 2, error: 3};
  const spans = findings.map((v, i) => {
    const [start, end] = anchor(v);
    return {start: units[Math.min(start, units.length - 1)], end: units[Math.min(end, units.length - 1)],
            severity: v.severity, open: keyOf(v) === openKey, i};
  });
  const cuts = [...new Set([0, text.length, ...spans.flatMap(s => [s.start, s.end])])].sort((a, b) => a - b);
  const pieces = [];
  for (const s of spans.filter(s => s.start === s.end && s.start === 0)) pieces.push(point(s));
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [from, to] = [cuts[k], cuts[k + 1]];
    const covering = spans.filter(s => s.start <= from && to <= s.end && s.start < s.end);
    const piece = document.createTextNode(text.slice(from, to));
    if (covering.length) {
      const mark = document.createElement("mark");
      const worst = covering.reduce((a, b) => (rank[b.severity] > rank[a.severity] ? b : a));
      mark.className = worst.severity + (covering.some(s => s.open) ? " open" : "");
      mark.append(piece);
      pieces.push(mark);
    } else {
      pieces.push(piece);
    }
    for (const s of spans.filter(s => s.start === s.end && s.start === to)) pieces.push(point(s));
  }
  pieces.push(document.createTextNode("\n "));  // so a trailing line break takes its height, as in the textarea
  backdrop.replaceChildren(...pieces);
  backdrop.scrollTop = draft.scrollTop;
}

function point(span) {  // an insertion point: a bar that takes no room, so the text lines up
  const mark = document.createElement("mark");
  mark.className = `point ${span.severity}` + (span.open ? " open" : "");
  return mark;
}

const LABEL = {error: "Serious", warning: "Worth fixing", info: "To consider"};

function item(v, i) {
  const li = document.createElement("li");
  const open = keyOf(v) === openKey;
  li.className = open ? "open" : "";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "finding";
  button.id = `finding-${i}`;
  button.setAttribute("aria-expanded", String(open));
  button.setAttribute("aria-controls", `detail-${i}`);
  const badge = element("span", `badge ${v.severity}`, LABEL[v.severity]);
  const rule = element("span", "rule", v.rule.replace(/-/g, " "));
  const [start, end] = anchor(v);
  const quoted = v.text && start === v.start && end === v.end
    ? element("span", "quote", `“${v.text.length > 90 ? v.text.slice(0, 90) + "…" : v.text}”`)
    : element("span", "quote", "about the whole letter");
  button.append(badge, rule, quoted);
  button.addEventListener("click", () => toggle(v, i));
  li.append(button);
  const detail = element("div", "detail");
  detail.id = `detail-${i}`;
  detail.hidden = !open;
  detail.append(element("p", "", v.message));
  if (v.suggestions.length) {
    const rewrites = element("ul", "rewrites");
    rewrites.setAttribute("aria-label", "Rewrites");
    for (const s of v.suggestions) {
      const choice = element("button", "secondary", describe(s, v));
      choice.type = "button";
      if (s.safe) choice.append(element("span", "safe", " (safe to apply)"));
      choice.addEventListener("click", () => apply(s));
      const entry = document.createElement("li");
      entry.append(choice);
      rewrites.append(entry);
    }
    detail.append(rewrites);
  }
  li.append(detail);
  return li;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function describe(s, v) {  // as the command line describes a suggestion
  if (s.description) return s.description[0].toUpperCase() + s.description.slice(1);
  const text = s.text.trim();
  if (s.start === s.end) return `Add ${s.where || "here"}: “${text}”`;
  if (!s.text) return `Delete ${s.where || `“${v.text}”`}`;
  if (s.where) return `Rewrite ${s.where} as “${text}”`;
  if (s.start === v.start && s.end === v.end) return `Replace with “${s.text}”`;
  return `Rewrite as “${s.text}”`;
}

function toggle(v, i) {
  openKey = openKey === keyOf(v) ? null : keyOf(v);
  render();
  document.getElementById(`finding-${i}`).focus();  // the list was rebuilt: keep the keyboard's place
}

// --- acting ------------------------------------------------------------------------------------

function apply(s) {
  if (draft.value !== checked.text) { check(); return; }  // the findings were for an older text
  const units = unitsOf(draft.value);
  const [start, end] = [units[s.start], units[s.end]];
  draft.value = draft.value.slice(0, start) + s.text + draft.value.slice(end);
  draft.focus();
  draft.setSelectionRange(start + s.text.length, start + s.text.length);
  openKey = null;
  say(notice, "Rewrite applied; checking again.");
  check();
}

function openAtCaret() {  // a click on a marked passage opens its finding
  if (draft.value !== checked.text || draft.selectionStart !== draft.selectionEnd) return;
  const offset = codePointAt(unitsOf(draft.value), draft.selectionStart);
  const hits = checked.findings.filter(v => {
    const [start, end] = anchor(v);
    return start === end ? Math.abs(offset - start) <= 1 : start <= offset && offset < end;
  });
  if (!hits.length) return;
  const next = hits[(hits.findIndex(v => keyOf(v) === openKey) + 1) % hits.length];
  openKey = keyOf(next);
  render();
  const shown = list.querySelector("li.open");
  if (shown) shown.scrollIntoView({block: "nearest"});
}

async function copy() {
  try {
    await navigator.clipboard.writeText(draft.value);
  } catch (problem) {  // no clipboard permission: copy the old way
    draft.select();
    document.execCommand("copy");
  }
  say(notice, "The letter is copied; paste it into your mail.");
}

draft.addEventListener("input", () => { renderMarks([]); schedule(); });  // marks return with the answer
draft.addEventListener("scroll", () => { backdrop.scrollTop = draft.scrollTop; });
draft.addEventListener("click", openAtCaret);
stage.addEventListener("change", check);
recipients.addEventListener("input", schedule);
document.getElementById("copy").addEventListener("click", copy);
if (draft.value.trim()) check();
