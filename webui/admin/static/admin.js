// Chronicle's admin: progressive enhancement only. Every form works
// without this file; with it, the editor previews as you type, counts
// words, keeps a draft copy a few seconds after you stop typing (never
// published: the server keeps it apart from the site), saves on
// Ctrl/⌘-S and warns before leaving unsaved text.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  var editor = document.getElementById("editor");
  if (editor) { enhanceEditor(editor); }
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var b = ev.submitter;
      if (!b || !b.dataset.confirm) { return; }
      if (!window.confirm(b.dataset.confirm)) { ev.preventDefault(); return; }
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
      form.appendChild(yes);
    });
  });
});

function enhanceEditor(form) {
  var text = form.querySelector("textarea[data-preview]");
  var out = document.getElementById("preview");
  var count = document.getElementById("count");
  var dirty = false, timer = 0, seq = 0;

  function words(s) { s = s.trim(); return s ? s.split(/\s+/).length : 0; }
  function recount() {
    var n = words(text.value);
    count.textContent = n + " words · " + Math.max(1, Math.ceil(n / 230)) + " min read";
  }
  function preview() {
    var mine = ++seq, body = new FormData();
    body.append("content", text.value);
    fetch(text.dataset.preview, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (mine === seq) { out.innerHTML = html; } }) // sanitised by the server's renderer
      .catch(function () { /* the preview waits for the next keystroke */ });
  }
  text.addEventListener("input", function () {
    recount();
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  });
  form.addEventListener("input", function () { dirty = true; });
  if (form.dataset.autosave) { enableAutosave(form); }
  if (form.dataset.presence) { heartbeat(form.dataset.presence); }
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (ev) {
    if (dirty) { ev.preventDefault(); ev.returnValue = ""; }
  });
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "s") {
      ev.preventDefault();
      var save = form.querySelector("button[data-shortcut=s]");
      if (form.requestSubmit) { form.requestSubmit(save); } else { save.click(); }
    }
  });
}

function enableAutosave(form) {
  var status = document.getElementById("autosave-status");
  var timer = 0, last = 0, pending = false, sending = false;
  function send() {
    if (sending) { pending = true; return; }
    sending = true; pending = false; last = Date.now();
    fetch(form.dataset.autosave, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (j) {
        status.textContent = "Draft kept at " + new Date(j.saved).toLocaleTimeString();
      })
      .catch(function () { status.textContent = "The draft could not be kept: save soon."; })
      .then(function () { sending = false; if (pending) { send(); } });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    // A few seconds after typing stops, and at least every 15 seconds
    // while it goes on.
    if (Date.now() - last > 15000 && last !== 0) { send(); return; }
    if (last === 0) { last = Date.now(); }
    timer = setTimeout(send, 2000);
  });
}

// heartbeat keeps this editor listed as having the post open, and shows
// who else has.
function heartbeat(url) {
  var box = document.getElementById("others");
  function beat() {
    fetch(url, { method: "POST", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (others) {
        if (!others.length) { box.textContent = ""; box.classList.add("empty"); return; }
        box.textContent = others.map(function (o) { return o.who + " has had this post open since " + o.since; }).join("; ") +
          ": save soon, and expect to merge.";
        box.classList.remove("empty");
      })
      .catch(function () { /* the next beat tries again */ });
  }
  setInterval(beat, 20000);
}
