// Chronicle's admin: progressive enhancement only. Every form works
// without this file; with it, the editor previews as you type, counts
// words, keeps a draft copy a few seconds after you stop typing (never
// published: the server keeps it apart from the site), saves on
// Ctrl/⌘-S and warns before leaving unsaved text; takes pictures pasted
// or dropped into the text (uploaded to the media library, then
// referenced); and picks feature and gallery pictures from the library.
// The library takes dropped files, each uploaded with a progress bar, and
// copies references. The profile's avatar is picked from the library
// too; typing in the navigation's rows chooses them.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  var editor = document.getElementById("editor");
  if (editor) { enhanceEditor(editor); enhancePictures(editor); }
  var up = document.getElementById("upload");
  if (up) { enhanceLibrary(up); }
  enhanceCopy();
  var profile = document.getElementById("profile");
  if (profile) { enhancePickers(profile); }
  // Typing in a rows editor chooses the radio button that uses its rows.
  document.querySelectorAll("input[type=radio][data-rows]").forEach(function (radio) {
    var rows = document.getElementById(radio.dataset.rows);
    if (rows) { rows.addEventListener("input", function () { radio.checked = true; }); }
  });
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

// announce says something to screen readers (a polite live region).
function announce(msg) {
  var el = document.getElementById("announce");
  if (!el) {
    el = document.createElement("p");
    el.id = "announce"; el.className = "visually-hidden";
    el.setAttribute("aria-live", "polite");
    document.body.appendChild(el);
  }
  el.textContent = "";
  setTimeout(function () { el.textContent = msg; }, 50);
}

// enhanceCopy shows the Copy buttons next to references (without the
// script the text is there to select).
function enhanceCopy() {
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
    if (!b) { return; }
    var input = document.getElementById(b.dataset.copy);
    function done() { b.textContent = "Copied"; announce("Copied " + input.value); setTimeout(function () { b.textContent = "Copy"; }, 2000); }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { if (document.execCommand("copy")) { done(); } });
    } else if (document.execCommand("copy")) { done(); }
  });
  document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
}

// uploadPicture sends one file to the library (the same endpoint as the
// library's form, answered as JSON) and reports progress (0–100); done
// gets (media, null) or (null, the reason it was refused).
function uploadPicture(url, file, alt, progress, done) {
  var body = new FormData(), xhr = new XMLHttpRequest();
  if (alt) { body.append("alt", alt); }
  body.append("file", file, file.name || "pasted.png");
  xhr.open("POST", url);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", function (ev) {
    if (ev.lengthComputable) { progress(Math.round(100 * ev.loaded / ev.total)); }
  });
  xhr.addEventListener("load", function () {
    var res = null;
    try { res = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's page */ }
    if (xhr.status === 201 && res && res.id) { progress(100); done(res, null); return; }
    done(null, (res && res.detail) || ("the upload failed (" + xhr.status + ")"));
  });
  xhr.addEventListener("error", function () { done(null, "the upload broke off: try again"); });
  xhr.send(body);
}

// progressRow is one upload's line: its name, a progress bar, then the
// outcome.
function progressRow(list, name) {
  var li = document.createElement("li"), label = document.createElement("span"), bar = document.createElement("progress");
  label.textContent = name;
  bar.max = 100; bar.value = 0;
  bar.setAttribute("aria-label", "Uploading " + name);
  li.appendChild(label); li.appendChild(bar);
  list.hidden = false;
  list.appendChild(li);
  return {
    progress: function (n) { bar.value = n; },
    finish: function (err, msg) {
      var p = document.createElement("span");
      p.className = err ? "error" : "done";
      p.textContent = msg;
      li.appendChild(p);
      bar.value = err ? 0 : 100;
      announce(msg);
    }
  };
}

function imagesOf(list) {
  var out = [];
  for (var i = 0; list && i < list.length; i++) {
    if (list[i].type && list[i].type.indexOf("image/") === 0) { out.push(list[i]); }
  }
  return out;
}

// enhanceLibrary uploads the form's files, or files dropped on the
// library, one request each with a progress bar, and adds each to the
// grid as it arrives.
function enhanceLibrary(form) {
  var input = form.querySelector("input[type=file]"), list = document.getElementById("uploads");
  var grid = document.getElementById("grid"), zone = document.getElementById("library");
  var max = Number(form.dataset.maxBytes) || 0;
  if (!window.FormData || !window.XMLHttpRequest) { return; }
  form.querySelector(".drop-hint").hidden = false;

  function addCard(m) {
    var li = document.createElement("li"), a = document.createElement("a"), img = document.createElement("img");
    var label = document.createElement("span"), copy = document.createElement("span"), ref = document.createElement("input");
    var lab = document.createElement("label"), btn = document.createElement("button");
    li.className = "card";
    a.href = "/admin/media/" + encodeURIComponent(m.id);
    img.src = m.thumb; img.alt = ""; img.loading = "lazy";
    label.className = "label"; label.textContent = m.alt || m.name || m.id;
    a.appendChild(img); a.appendChild(label);
    copy.className = "copy";
    ref.id = "ref-" + m.id; ref.className = "ref"; ref.readOnly = true; ref.value = m.ref;
    lab.className = "visually-hidden"; lab.htmlFor = ref.id; lab.textContent = "Reference to " + label.textContent;
    btn.type = "button"; btn.className = "quiet"; btn.dataset.copy = ref.id; btn.textContent = "Copy";
    copy.appendChild(lab); copy.appendChild(ref); copy.appendChild(btn);
    li.appendChild(a); li.appendChild(copy);
    grid.insertBefore(li, grid.firstChild);
    var empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
  }
  function send(files) {
    files.forEach(function (f) {
      var row = progressRow(list, f.name);
      if (max && f.size > max) {
        row.finish(true, f.name + ": is larger than " + Math.floor(max / 1048576) + " MiB — not uploaded.");
        return;
      }
      uploadPicture(form.action, f, "", row.progress, function (m, err) {
        if (err) { row.finish(true, err + " — not uploaded."); return; }
        m.name = f.name;
        addCard(m);
        row.finish(false, "Uploaded " + f.name + ".");
      });
    });
  }
  form.addEventListener("submit", function (ev) {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) { return; } // the server says what is missing
    ev.preventDefault();
    send(files);
    form.reset();
  });
  [zone, form].forEach(function (el) {
    el.addEventListener("dragover", function (ev) {
      if (ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0) {
        ev.preventDefault(); zone.classList.add("dragging");
      }
    });
    el.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
    el.addEventListener("drop", function (ev) {
      zone.classList.remove("dragging");
      if (!ev.dataTransfer || !ev.dataTransfer.files.length) { return; }
      ev.preventDefault();
      send(Array.prototype.slice.call(ev.dataTransfer.files));
    });
  });
}

// askAlt asks for a picture's alt text in a small modal dialog; done gets
// the text, or null if the person cancelled.
function askAlt(name, done) {
  var dlg = document.createElement("dialog"), form = document.createElement("form");
  dlg.setAttribute("aria-labelledby", "alt-dialog-h");
  form.method = "dialog";
  form.innerHTML = '<h2 id="alt-dialog-h">Describe the picture</h2>' +
    '<p class="hint"></p>' +
    '<div class="field"><label for="alt-dialog-text">Alt text <span class="hint">(what it shows, for people who cannot see it)</span></label>' +
    '<input id="alt-dialog-text" name="alt" maxlength="2000" autocomplete="off"></div>' +
    '<p class="actions"><button type="submit" value="insert">Insert picture</button> <button type="submit" value="cancel" class="quiet" formnovalidate>Cancel</button></p>';
  form.querySelector("p.hint").textContent = name;
  dlg.appendChild(form);
  document.body.appendChild(dlg);
  dlg.addEventListener("close", function () {
    var alt = dlg.returnValue === "insert" ? form.querySelector("input").value.trim() : null;
    dlg.remove();
    done(alt);
  });
  dlg.showModal();
}

// enhancePictures: pictures pasted or dropped into the text are uploaded
// to the library (after asking their alt text) and inserted as
// ![alt](media:<id>) where the cursor was; "Choose from library" opens a
// picker of the library's pictures for the feature image and gallery.
function enhancePictures(form) {
  var text = form.querySelector("textarea[data-upload]");
  if (!text || !window.FormData || !window.XMLHttpRequest || !window.HTMLDialogElement) { return; }
  var url = text.dataset.upload, max = Number(text.dataset.maxBytes) || 0;
  var list = document.getElementById("body-uploads");
  document.getElementById("paste-hint").hidden = false;

  var seq = 0;
  // take asks for each file's alt text in turn, marks where it goes with
  // a placeholder (so typing meanwhile moves it along) and replaces that
  // with the reference once the upload is in.
  function take(files, at) {
    if (!files.length) { return; }
    var f = files.shift(), name = f.name || "pasted picture";
    askAlt(name, function (alt) {
      text.focus();
      if (alt === null) { take(files, at); return; }
      var row = progressRow(list, name);
      if (max && f.size > max) {
        row.finish(true, name + ": is larger than " + Math.floor(max / 1048576) + " MiB — not uploaded.");
        take(files, at);
        return;
      }
      var mark = "![Uploading " + name.replace(/[\[\]]/g, "") + " (" + (++seq) + ")…]()";
      at = Math.min(at, text.value.length);
      text.setRangeText(mark, at, at, "end");
      at += mark.length;
      function put(s) {
        var i = text.value.indexOf(mark);
        if (i < 0) { i = text.value.length; text.setRangeText(s, i, i); } else { text.setRangeText(s, i, i + mark.length); }
        text.dispatchEvent(new Event("input", { bubbles: true }));
      }
      uploadPicture(url, f, alt, row.progress, function (m, err) {
        if (err) { put(""); row.finish(true, err + " — not inserted."); return; }
        put("![" + alt.replace(/([\[\]])/g, "\\$1") + "](" + m.ref + ")");
        row.finish(false, "Inserted " + name + ".");
      });
      take(files, at);
    });
  }
  text.addEventListener("paste", function (ev) {
    var files = imagesOf(ev.clipboardData && ev.clipboardData.files);
    if (!files.length) { return; }
    ev.preventDefault();
    take(files, text.selectionStart);
  });
  text.addEventListener("dragover", function (ev) {
    if (ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0) { ev.preventDefault(); }
  });
  text.addEventListener("drop", function (ev) {
    var files = imagesOf(ev.dataTransfer && ev.dataTransfer.files);
    if (!files.length) { return; }
    ev.preventDefault();
    take(files, text.selectionStart);
  });

  enhancePickers(form);
}

// enhancePickers: a "Choose from the library" link (data-pick names
// the field) opens a picker of the library's pictures in a dialog, not a
// new tab; the picture chosen goes into the field.
function enhancePickers(root) {
  if (!window.HTMLDialogElement || !window.fetch) { return; }
  root.querySelectorAll("a[data-pick]").forEach(function (a) {
    // A dialog here, not a new tab.
    a.removeAttribute("target");
    var note = a.querySelector(".new-tab");
    if (note) { note.remove(); }
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      pick(a.href, function (m) {
        var field = document.getElementById(a.dataset.pick);
        if (field.tagName === "TEXTAREA") {
          field.value = field.value.replace(/\s*$/, "") + (field.value.trim() ? "\n" : "") + m.ref;
        } else {
          field.value = m.ref;
        }
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.focus();
      });
    });
  });
}

// pick shows the library's pictures in a dialog; chosen gets the one
// picked.
function pick(libraryURL, chosen) {
  var dlg = document.createElement("dialog"), page = 1;
  dlg.setAttribute("aria-labelledby", "pick-h");
  dlg.innerHTML = '<h2 id="pick-h">Choose a picture</h2><p class="hint" role="status">Loading…</p><ul class="picker"></ul>' +
    '<p class="actions"><button type="button" class="quiet more" hidden>More pictures</button> <button type="button" class="quiet close">Close</button></p>';
  var grid = dlg.querySelector("ul"), status = dlg.querySelector("p.hint"), more = dlg.querySelector("button.more");
  document.body.appendChild(dlg);
  dlg.addEventListener("close", function () { dlg.remove(); });
  dlg.querySelector("button.close").addEventListener("click", function () { dlg.close(); });
  function load() {
    var u = new URL(libraryURL, location.href);
    u.searchParams.set("format", "json");
    u.searchParams.set("page", String(page));
    fetch(u, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (res) {
        res.items.forEach(function (m, i) {
          var li = document.createElement("li"), b = document.createElement("button"), img = document.createElement("img"), s = document.createElement("span");
          b.type = "button";
          img.src = m.thumb; img.alt = ""; img.loading = "lazy";
          s.textContent = m.alt || m.id;
          b.appendChild(img); b.appendChild(s);
          b.addEventListener("click", function () { dlg.close(); chosen(m); });
          li.appendChild(b); grid.appendChild(li);
          if (page === 1 && i === 0) { b.focus(); }
        });
        status.textContent = res.total ? res.total + " picture" + (res.total === 1 ? "" : "s") : "The library is empty: upload pictures first.";
        more.hidden = res.page >= res.pages;
        page = res.page + 1;
      })
      .catch(function () { status.textContent = "The library could not be loaded."; });
  }
  more.addEventListener("click", load);
  dlg.showModal();
  load();
}
