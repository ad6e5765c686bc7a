/* course-rise-widgets: the course's small JupyterLab extension for the jupyterlab-rise slideshow.
 * Hand-written, no build step: a module-federation container as JupyterLab's loader expects one.
 *
 * 1. Widgets (init): the jupyterlab-rise slideshow app (0.43.1) is built from fewer JupyterLab
 *    packages than JupyterLab itself; @jupyterlab/console is not among them. The ipywidgets manager
 *    asks for that shared module without a fallback, fails to load, and every widget in the slideshow
 *    falls back to its static picture (jupyterlab-contrib/rise#119). The manager only uses the module
 *    for its optional IConsoleTracker token, so a stand-in module that exports the token is enough.
 *    init() runs for every federated extension before any is imported; where the shared scope
 *    already holds @jupyterlab/console (JupyterLab itself) nothing is changed.
 *
 * 2. Presenting (the "presenter" plugin, slideshow only; a no-op in JupyterLab):
 *    - the slideshow takes the keyboard when it opens (no click needed before the first key), keeps
 *      it when a cell re-renders, and Esc after using a widget gives it back to the slides;
 *    - Ctrl+Shift+Enter runs every cell and the deck stays on its slide (run-all makes the last cell
 *      active, and the slideshow follows the active cell);
 *    - T opens the course's speaker-notes window: the current slide's notes, its number and title
 *      and the next slide's title, following the deck; keys pressed there move the deck. It only
 *      reads the deck (jupyterlab-rise's own speaker view loads a second copy of the slideshow and
 *      sends the deck back to slide 1);
 *    - a line in the corner says whether the kernel is busy (how many cells have run) and the keys;
 *    - Q leaves the slideshow for the same notebook in JupyterLab.
 */
var _JUPYTERLAB;
(function () {
  "use strict";
  var NAME = "course-rise-widgets";
  var KEY = "@jupyterlab/console";
  var standIn = {
    IConsoleTracker: {
      name: KEY + ":IConsoleTracker",
      description: "stand-in token: the slideshow has no consoles"
    }
  };

  // ---------------------------------------------------------------- the slideshow, read from the page
  var SLIDESHOW_KEYS = ".lm-Widget.reveal .jp-Notebook.jp-mod-commandMode"; // beats RISE's own T

  function pageConfig() {
    var el = document.getElementById("jupyter-config-data");
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function notebookNode() {
    return document.querySelector(".lm-Widget.reveal .jp-Notebook");
  }

  function leafSlides() {
    var all = document.querySelectorAll(".reveal .slides section");
    var leaves = [];
    for (var i = 0; i < all.length; i++) {
      if (!all[i].querySelector("section")) leaves.push(all[i]);
    }
    return leaves;
  }

  function cleanText(node) {
    var copy = node.cloneNode(true);
    var anchors = copy.querySelectorAll(".jp-InternalAnchorLink");
    for (var i = 0; i < anchors.length; i++) anchors[i].remove();
    return (copy.textContent || "").replace(/\s+/g, " ").trim();
  }

  function heading(section) {
    var heads = section ? section.querySelectorAll("h1, h2, h3, h4") : [];
    for (var i = 0; i < heads.length; i++) {
      if (!heads[i].closest("aside.notes")) return cleanText(heads[i]);
    }
    return "";
  }

  // a slide's title: its heading, else the last heading before it ("... (continued)")
  function slideTitle(leaves, index) {
    if (index < 0 || index >= leaves.length) return "";
    var own = heading(leaves[index]);
    if (own) return own;
    for (var i = index - 1; i >= 0; i--) {
      var earlier = heading(leaves[i]);
      if (earlier) return earlier + " (continued)";
    }
    return "(no heading)";
  }

  function deckState() {
    var leaves = leafSlides();
    var index = -1;
    for (var i = 0; i < leaves.length; i++) {
      if (leaves[i].classList.contains("present")) {
        index = i;
        break;
      }
    }
    var current = index >= 0 ? leaves[index] : null;
    var notes = [];
    if (current) {
      var asides = current.querySelectorAll("aside.notes");
      for (var k = 0; k < asides.length; k++) {
        var rendered = asides[k].querySelector(".jp-RenderedHTMLCommon") || asides[k];
        notes.push(rendered.innerHTML); // already rendered and sanitized by JupyterLab
      }
    }
    return {
      index: index,
      count: leaves.length,
      id: current ? current.id : "",
      title: slideTitle(leaves, index),
      notes: notes,
      next: index >= 0 && index + 1 < leaves.length ? slideTitle(leaves, index + 1) : ""
    };
  }

  // ---------------------------------------------------------------- 1. the keyboard from the first key
  function takeKeyboardWhenReady() {
    if (window.top !== window) return; // inside JupyterLab (Alt+R): never take its keyboard
    function lost() {
      var active = document.activeElement;
      return !active || active === document.body || active === document.documentElement;
    }
    function tryNow() {
      var nb = notebookNode();
      if (!nb || !document.querySelector(".reveal .slides section.present")) return false;
      if (lost()) nb.focus();
      // ... and keeps it: a cell that re-renders (run-all renders every markdown cell again) takes
      // the focus with it to <body>, where no key reaches the notebook. The window itself losing
      // the focus (the notes window, another program) is left alone.
      // Esc after using a widget (a slider, a button) gives the keyboard back to the slides, so
      // Space moves the deck again instead of pressing the button
      document.addEventListener("keydown", function (event) {
        var active = document.activeElement;
        if (event.key === "Escape" && active && active !== nb && nb.contains(active) && active.closest(".jp-OutputArea")) {
          nb.focus();
        }
      }, true);
      nb.addEventListener("focusout", function () {
        setTimeout(function () {
          if (document.hasFocus() && lost()) nb.focus();
        }, 0);
      });
      return true;
    }
    if (tryNow()) return;
    var watcher = new MutationObserver(function () {
      if (tryNow()) watcher.disconnect();
    });
    watcher.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    setTimeout(function () { watcher.disconnect(); }, 300000);
  }

  // ---------------------------------------------------------------- 2. speaker notes in a window of our own
  var NOTES_CSS =
    "body{font:18px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:18px 22px;color:#1d1d1d;background:#f6f6f3}" +
    "#where{color:#555;font-size:15px;letter-spacing:.02em}" +
    "#title{font-size:24px;margin:4px 0 12px}" +
    "#notes{font-size:21px;background:#fff;border:1px solid #d8d8d0;border-radius:6px;padding:10px 16px;min-height:3em}" +
    "#notes p{margin:.3em 0 .6em}.none{color:#777;font-style:italic}" +
    "#next{color:#444;margin-top:14px;font-size:17px}#keys{color:#777;margin-top:18px;font-size:14px}" +
    "#closed{display:none;color:#a00;font-weight:bold;margin-top:12px}";

  function Notes(deckName) {
    this.deckName = deckName;
    this.win = null;
    this.watcher = null;
    this.pending = false;
  }

  Notes.prototype.open = function () {
    if (this.win && !this.win.closed) {
      this.win.focus();
      this.update();
      return true;
    }
    var win = window.open("", "course-speaker-notes", "popup,width=760,height=560");
    if (!win) return false; // a pop-up blocker: the corner line says so
    this.win = win;
    var doc = win.document;
    doc.open();
    doc.write(
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title></title><style>" + NOTES_CSS +
        "</style></head><body><div id='where'></div><h1 id='title'></h1><div id='notes'></div>" +
        "<div id='next'></div><div id='closed'>The slideshow was closed or reloaded: press T in it to reconnect.</div>" +
        "<div id='keys'>Keys here move the deck: Space, the arrows, Page Down or Enter go forward, Shift+Space, Page Up or Backspace back; Home and End.</div></body></html>"
    );
    doc.close();
    doc.title = "Speaker notes: " + this.deckName;
    var self = this;
    doc.addEventListener("keydown", function (event) { self.forwardKey(event); });
    this.follow();
    this.update();
    return true;
  };

  Notes.prototype.follow = function () {
    if (this.watcher) return;
    var slides = document.querySelector(".reveal .slides");
    if (!slides) return;
    var self = this;
    // paid for by the deck's own changes: a slide change (a section's class) schedules one update
    this.watcher = new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        if (records[i].target.tagName === "SECTION") {
          self.schedule();
          return;
        }
      }
    });
    this.watcher.observe(slides, { attributes: true, attributeFilter: ["class"], subtree: true });
    window.addEventListener("pagehide", function () {
      if (self.win && !self.win.closed) {
        var closed = self.win.document.getElementById("closed");
        if (closed) closed.style.display = "block";
      }
    });
  };

  Notes.prototype.schedule = function () {
    if (this.pending) return;
    this.pending = true;
    var self = this;
    setTimeout(function () {
      self.pending = false;
      self.update();
    }, 30);
  };

  Notes.prototype.update = function () {
    var win = this.win;
    if (!win || win.closed) return;
    var doc = win.document;
    var state = deckState();
    doc.body.setAttribute("data-slide", String(state.index + 1));
    doc.body.setAttribute("data-slide-id", state.id);
    doc.getElementById("where").textContent =
      this.deckName + " \u00b7 slide " + (state.index + 1) + " of " + state.count;
    doc.getElementById("title").textContent = state.title;
    var notes = doc.getElementById("notes");
    if (state.notes.length) {
      notes.innerHTML = state.notes.join("<hr>");
    } else {
      notes.innerHTML = "<p class='none'>No notes on this slide.</p>";
    }
    doc.getElementById("next").textContent = state.next ? "Next: " + state.next : "This is the last slide.";
  };

  // keys pressed in the notes window, as the deck's own keys: forward = Space (the next slide or
  // fragment, down through sub-slides), back = Shift+Space; Home and End as they are
  var FORWARDED = {
    ArrowRight: [32, false], ArrowDown: [32, false], " ": [32, false], PageDown: [32, false], Enter: [32, false],
    ArrowLeft: [32, true], ArrowUp: [32, true], PageUp: [32, true], Backspace: [32, true],
    Home: [36, false], End: [35, false]
  };

  Notes.prototype.forwardKey = function (event) {
    var how = FORWARDED[event.key];
    if (how === undefined || event.ctrlKey || event.altKey || event.metaKey) return;
    event.preventDefault();
    var code = how[0];
    var back = how[1] || (code === 32 && event.shiftKey);
    var key = code === 32 ? " " : event.key;
    var target = notebookNode() || document.body;
    target.dispatchEvent(new KeyboardEvent("keydown", {
      key: key, code: code === 32 ? "Space" : event.code, keyCode: code, which: code,
      shiftKey: back, bubbles: true, cancelable: true
    }));
  };

  // ---------------------------------------------------------------- 3. the corner line: kernel state and keys
  function Bar(keysText, panel) {
    this.keysText = keysText;
    this.panel = panel;
    this.node = null;
    this.pending = false;
    this.message = "";
  }

  Bar.prototype.attach = function () {
    var host = document.querySelector(".lm-Widget.reveal");
    if (!host) return false;
    var node = document.createElement("div");
    node.className = "course-presenter-bar";
    node.setAttribute("aria-live", "polite");
    node.style.cssText =
      "position:absolute;left:10px;bottom:6px;z-index:40;font:13px/1.3 system-ui,sans-serif;" +
      "color:#666;background:rgba(255,255,255,.85);padding:2px 8px;border-radius:4px;pointer-events:none";
    node.innerHTML = "<span class='course-kernel-state'></span><span class='course-keys'></span>";
    host.appendChild(node);
    this.node = node;
    var self = this;
    var nb = notebookNode();
    // paid for by the kernel's own work: the kernel's status and the cells' prompts and outputs
    // change, and each change asks for at most one redraw per frame
    var watcher = new MutationObserver(function () { self.schedule(); });
    if (nb) watcher.observe(nb, { childList: true, subtree: true, characterData: true });
    var panel = this.panel();
    if (panel && panel.sessionContext) {
      panel.sessionContext.statusChanged.connect(function () { self.schedule(); });
      panel.sessionContext.connectionStatusChanged.connect(function () { self.schedule(); });
    }
    this.update();
    return true;
  };

  Bar.prototype.schedule = function () {
    if (this.pending) return;
    this.pending = true;
    var self = this;
    requestAnimationFrame(function () {
      self.pending = false;
      self.update();
    });
  };

  Bar.prototype.say = function (message) {
    this.message = message;
    this.update();
  };

  Bar.prototype.update = function () {
    if (!this.node) return;
    var panel = this.panel();
    var cells = panel ? panel.content.widgets : [];
    var total = 0, done = 0, waiting = 0;
    for (var i = 0; i < cells.length; i++) {
      var model = cells[i].model;
      if (model.type !== "code") continue;
      total += 1;
      // queued or running: the kernel goes idle for a moment between the cells of a run-all
      var prompt = cells[i].promptNode ? cells[i].promptNode.textContent || "" : "";
      if (model.executionState === "running" || prompt.indexOf("*") >= 0) waiting += 1;
      else if (model.executionCount !== null && model.executionCount !== undefined) done += 1;
    }
    var status = panel && panel.sessionContext ? panel.sessionContext.kernelDisplayStatus : "unknown";
    var state, text;
    if (status === "busy" || waiting > 0) {
      state = "busy";
      text = "\u25cf running: " + done + " of " + total + " cells done";
    } else if (status !== "idle") {
      state = "starting";
      text = "\u25cb kernel: " + status;
    } else if (done === 0) {
      state = "idle";
      text = "\u25cb Ctrl+Shift+Enter runs every cell";
    } else {
      state = "ready";
      text = "\u25cf ready: " + done + " of " + total + " cells run";
    }
    var span = this.node.querySelector(".course-kernel-state");
    span.textContent = text;
    span.style.color = state === "busy" ? "#b36b00" : state === "ready" ? "#2d7a2d" : "#666";
    this.node.setAttribute("data-state", state);
    this.node.querySelector(".course-keys").textContent =
      " \u00b7 " + (this.message ? this.message + " \u00b7 " : "") + this.keysText;
  };

  // ---------------------------------------------------------------- the plugin
  function activatePresenter(app) {
    var config = pageConfig();
    if (!config || !config.notebookPath || app.name !== "Rise") return; // JupyterLab itself: nothing to do
    var path = String(config.notebookPath);
    var deckName = path.split("/").pop().replace(/\.ipynb$/, "");
    var standalone = window.top === window;
    function panel() {
      var widget = app.shell.currentWidget;
      return widget && widget.content && widget.content.widgets ? widget : null;
    }
    var notes = new Notes(deckName);
    var bar = new Bar(standalone ? "T notes \u00b7 Q leave \u00b7 ? help" : "T notes \u00b7 ? help", panel);

    // The run-everything key, in the slideshow: every cell runs and the deck stays on its slide
    // (run-all makes the last cell active, and the slideshow follows the active cell).
    app.commands.addCommand("course:run-all-here", {
      label: "Run every cell, staying on this slide",
      execute: function () {
        var current = panel();
        if (!current) return;
        var notebook = current.content;
        // the slide on screen, as its first cell (moving with Space does not move the active cell)
        var shown = null, leaves = leafSlides(), here = notebook.activeCellIndex;
        for (var i = 0; i < leaves.length; i++) if (leaves[i].classList.contains("present")) shown = leaves[i];
        for (var j = 0; shown && j < notebook.widgets.length; j++) {
          if (shown.contains(notebook.widgets[j].node)) {
            here = j;
            break;
          }
        }
        var running = app.commands.execute("notebook:run-all-cells");
        setTimeout(function () {
          notebook.deselectAll();
          notebook.activeCellIndex = here;
        }, 0);
        return running;
      }
    });
    app.commands.addKeyBinding({ command: "course:run-all-here", keys: ["Ctrl Shift Enter"], selector: SLIDESHOW_KEYS });

    app.commands.addCommand("course:speaker-notes", {
      label: "Open the speaker notes (follows the deck)",
      execute: function () {
        if (!notes.open()) bar.say("the browser blocked the notes window: allow pop-ups here, then T");
        else bar.say("");
      }
    });
    app.commands.addKeyBinding({ command: "course:speaker-notes", keys: ["T"], selector: SLIDESHOW_KEYS });
    if (standalone) {
      app.commands.addCommand("course:leave-slideshow", {
        label: "Leave the slideshow: open this notebook in JupyterLab",
        execute: function () {
          var base = config.baseUrl || "/";
          var encoded = path.split("/").map(encodeURIComponent).join("/");
          window.location.assign(base.replace(/\/?$/, "/") + "lab/tree/" + encoded);
        }
      });
      app.commands.addKeyBinding({ command: "course:leave-slideshow", keys: ["Q"], selector: SLIDESHOW_KEYS });
    }

    takeKeyboardWhenReady();
    if (!bar.attach()) {
      var watcher = new MutationObserver(function () {
        if (document.querySelector(".reveal .slides section.present") && bar.attach()) watcher.disconnect();
      });
      watcher.observe(document.body, { childList: true, subtree: true });
    }
  }

  var presenter = {
    id: NAME + ":presenter",
    description: "Presenting the course live: keyboard from the first key, speaker notes, kernel state, leave key",
    autoStart: true,
    requires: [],
    activate: activatePresenter
  };

  _JUPYTERLAB = _JUPYTERLAB || {};
  _JUPYTERLAB[NAME] = {
    init: function (scope) {
      if (!scope || Object.prototype.hasOwnProperty.call(scope, KEY)) return;
      scope[KEY] = {
        "4.0.0": {
          from: NAME,
          eager: false,
          loaded: 1,
          get: function () {
            return Promise.resolve(function () { return standIn; });
          }
        }
      };
    },
    get: function (module) {
      if (module === "./extension") {
        return Promise.resolve(function () { return { __esModule: true, default: [presenter] }; });
      }
      return Promise.reject(new Error('Module "' + module + '" does not exist in container ' + NAME));
    }
  };
})();
