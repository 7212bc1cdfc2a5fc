/* The kiosk (templates/distribution/kiosk/kiosk.html): a tablet at a store exit asks every
 * passer-by the four-face question, and maybe a follow-up, and sends the answers to the server
 * whenever it can. Its settings and texts come from the kiosk-config data block (the CSP refuses
 * inline script).
 *
 * - An answer goes into a queue in localStorage the moment it is complete, before any sync, and
 *   leaves the queue only when the server has answered stored, duplicate or refused for its id:
 *   a reload, a crash or a week offline loses nothing, and a batch sent twice (a lost reply)
 *   stores each answer once, because each keeps the id it was given here.
 * - A face waiting for its follow-up is kept as a draft too; after a reload it is queued alone.
 * - A failed sync is retried with backoff (2 s doubling to 60 s) and at once when the browser is
 *   back online. 410 or 404 means the device was removed: the page says so and stops.
 * - A second face tap within 600 ms (a double tap, a button-masher) is ignored, and the buttons
 *   of a screen that just appeared stay disabled for as long, so the tap that chose a face does
 *   not also press what appears under the finger. The server flags fast answers itself.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("kiosk-config").textContent);
  var QUEUE_KEY = "cxkiosk:" + config.device + ":queue";
  var DRAFT_KEY = "cxkiosk:" + config.device + ":draft";
  var SETTLE_MS = 600;
  var BATCH = 100;
  var RETRY_FIRST_MS = 2000;
  var RETRY_MAX_MS = 60000;
  var SYNC_TIMEOUT_MS = 30000;
  var SETTLED = { stored: true, duplicate: true, refused: true };

  var screens = {
    question: document.getElementById("kiosk-question"),
    follow_up: document.getElementById("kiosk-follow-up"),
    thanks: document.getElementById("kiosk-thanks"),
  };
  var attract = document.getElementById("kiosk-attract");
  var underneath = [document.querySelector(".kiosk-header"), document.getElementById("kiosk-main")];
  var removedScreen = document.getElementById("kiosk-removed");
  var statusLine = document.getElementById("kiosk-status");
  var followUpForm = document.getElementById("kiosk-follow-up-form");
  var followUpText = document.getElementById("kiosk-follow-up-input");
  var followUpFaces = config.follow_up ? config.follow_up_faces || [] : [];

  var state = {
    screen: "question",
    language: config.default_language,
    draft: null, // the face answer waiting for its follow-up
    choice: null,
    lastFaceAt: 0,
    settleUntil: 0,
    removed: false,
    syncing: false,
    syncAgain: false,
    failing: false,
    retryDelay: RETRY_FIRST_MS,
    batchSize: BATCH,
    retryTimer: null,
    screenTimer: null,
    idleTimer: null,
    settleTimer: null,
  };

  // --- storage: localStorage, or memory where the browser refuses it (private mode, full) -------

  var memory = {};
  var storageBroken = false;

  function load(key, empty) {
    if (!storageBroken) {
      try {
        var raw = window.localStorage.getItem(key);
        return raw ? JSON.parse(raw) : empty;
      } catch (error) {
        storageBroken = true;
      }
    }
    return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : empty;
  }

  function save(key, value) {
    memory[key] = value;
    if (storageBroken) return;
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // From here on memory is the only copy; reading localStorage again would lose what it holds.
      storageBroken = true;
    }
  }

  function queue() {
    var items = load(QUEUE_KEY, []);
    return Array.isArray(items) ? items : [];
  }

  function enqueue(answer) {
    // Read, change and write at once (nothing runs between them), so the queue stays whole
    // whatever a sync in flight removes when it returns.
    save(QUEUE_KEY, queue().concat([answer]));
  }

  function dequeue(ids) {
    var items = queue();
    var left = items.filter(function (item) { return !ids[item.id]; });
    if (left.length !== items.length) save(QUEUE_KEY, left);
    return items.length - left.length;
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID().replace(/-/g, "");
    }
    // randomUUID needs a secure context; getRandomValues does not (a kiosk on plain http).
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  // --- texts ----------------------------------------------------------------------------------

  function texts() {
    return config.texts[state.language] || config.texts[config.default_language] || {};
  }

  function lookup(source, path) {
    return path.split(".").reduce(function (value, part) {
      return value === null || value === undefined ? value : value[part];
    }, source);
  }

  function applyTexts() {
    var t = texts();
    document.documentElement.lang = state.language;
    document.querySelectorAll("[data-text]").forEach(function (node) {
      var value = lookup(t, node.getAttribute("data-text"));
      if (typeof value === "string" && value) node.textContent = value;
    });
    var options = (config.follow_up && config.follow_up.options) || [];
    document.querySelectorAll("[data-option]").forEach(function (button) {
      var value = button.getAttribute("data-option");
      var option = options.filter(function (o) { return String(o.value) === value; })[0];
      var labels = (option && option.texts) || {};
      button.textContent = labels[state.language] || labels[config.default_language] || value;
    });
    document.querySelectorAll("[data-language]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-language") === state.language));
    });
    renderStatus();
  }

  function setLanguage(code) {
    if (!config.texts[code]) return;
    state.language = code;
    if (state.draft) {
      state.draft.language = code;
      save(DRAFT_KEY, state.draft);
    }
    applyTexts();
  }

  function renderStatus() {
    var waiting = queue().length;
    if (state.removed || !state.failing || !waiting) {
      statusLine.textContent = "";
      return;
    }
    var t = texts();
    var line = (t.pending || "{n}").split("{n}").join(String(waiting));
    if (navigator.onLine === false && t.offline) line = t.offline + " " + line;
    statusLine.textContent = line;
  }

  // --- screens --------------------------------------------------------------------------------

  function show(name) {
    Object.keys(screens).forEach(function (key) {
      screens[key].hidden = key !== name;
    });
    state.screen = name;
    settle(screens[name]);
    var heading = screens[name].querySelector("h1");
    // The button that was pressed is gone; a keyboard or screen reader user goes on from here.
    if (heading) heading.focus({ preventScroll: true });
    armIdle();
  }

  function settle(screen) {
    var buttons = screen.querySelectorAll("button");
    state.settleUntil = Date.now() + SETTLE_MS;
    clearTimeout(state.settleTimer);
    document.querySelectorAll(".kiosk-main button:disabled").forEach(function (b) { b.disabled = false; });
    buttons.forEach(function (b) { b.disabled = true; });
    state.settleTimer = setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    }, SETTLE_MS);
  }

  function reset() {
    clearTimeout(state.screenTimer);
    state.draft = null;
    state.choice = null;
    save(DRAFT_KEY, null);
    if (followUpText) followUpText.value = "";
    document.querySelectorAll("[data-option]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    state.language = config.default_language;
    applyTexts();
    show("question");
  }

  function armIdle() {
    clearTimeout(state.idleTimer);
    if (state.removed) return;
    if (state.screen === "follow_up") {
      // The customer walked away mid-answer: their face still counts.
      state.idleTimer = setTimeout(function () {
        complete(false, false);
      }, config.reset_seconds * 1000);
    } else if (state.screen === "question" && attract.hidden) {
      state.idleTimer = setTimeout(showAttract, config.attract_after_seconds * 1000);
    }
  }

  function showAttract() {
    if (state.removed || state.screen !== "question") return;
    state.language = config.default_language;
    applyTexts();
    attract.hidden = false;
    cover(true);
    attract.focus({ preventScroll: true });
  }

  function hideAttract() {
    attract.hidden = true;
    cover(false);
    show("question");
  }

  // What a full-screen layer covers can be neither tabbed to nor read out.
  function cover(covered) {
    underneath.forEach(function (node) { node.inert = covered; });
  }

  // --- answering ------------------------------------------------------------------------------

  function chooseFace(face) {
    var now = Date.now();
    if (state.removed || state.screen !== "question" || now < state.settleUntil) return;
    if (now - state.lastFaceAt < SETTLE_MS) return;
    state.lastFaceAt = now;
    var answer = {
      id: newId(),
      answered_at: new Date(now).toISOString(),
      language: state.language,
      answers: {},
    };
    answer.answers[config.question_key] = face;
    if (followUpFaces.indexOf(face) >= 0) {
      state.draft = answer;
      state.choice = null;
      save(DRAFT_KEY, answer);
      show("follow_up");
    } else {
      state.draft = answer;
      complete(false, true);
    }
  }

  // Queue the draft (with the follow-up's answer when `withFollowUp`), then thank the customer,
  // or go straight back to the question when they walked away (`thank` false).
  function complete(withFollowUp, thank) {
    var answer = state.draft;
    if (!answer) return;
    if (withFollowUp && config.follow_up) {
      var value = config.follow_up.type === "single_choice" ? state.choice : (followUpText.value || "").trim();
      if (value) answer.answers[config.follow_up.key] = value;
    }
    enqueue(answer);
    state.draft = null;
    save(DRAFT_KEY, null);
    renderStatus();
    sync();
    if (!thank) {
      reset();
      return;
    }
    show("thanks");
    clearTimeout(state.screenTimer);
    state.screenTimer = setTimeout(reset, config.thanks_seconds * 1000);
  }

  function onFollowUpDone(withFollowUp) {
    if (state.removed || state.screen !== "follow_up" || Date.now() < state.settleUntil) return;
    complete(withFollowUp, true);
  }

  // --- sync -----------------------------------------------------------------------------------

  function sync() {
    if (state.removed) return;
    if (state.syncing) {
      state.syncAgain = true;
      return;
    }
    var batch = queue().slice(0, state.batchSize);
    if (!batch.length) {
      state.failing = false;
      renderStatus();
      return;
    }
    clearTimeout(state.retryTimer);
    state.syncing = true;
    state.syncAgain = false;
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller ? setTimeout(function () { controller.abort(); }, SYNC_TIMEOUT_MS) : null;
    fetch(config.sync_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ answers: batch }),
      credentials: "same-origin",
      cache: "no-store",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (response.status === 410 || response.status === 404) return "removed";
        // Too big for the server (long texts): smaller batches until one goes through.
        if (response.status === 413) state.batchSize = Math.max(1, Math.floor(batch.length / 2));
        if (!response.ok) {
          var error = new Error("sync answered " + response.status);
          error.retryAfter = parseInt(response.headers.get("Retry-After"), 10) || 0;
          throw error;
        }
        return response.json();
      })
      .then(function (body) {
        clearTimeout(timeout);
        state.syncing = false;
        if (body === "removed") {
          deviceRemoved();
          return;
        }
        var done = {};
        ((body && body.results) || []).forEach(function (result) {
          if (result && SETTLED[result.status]) done[result.id] = true;
        });
        var settled = dequeue(done);
        var left = queue().length;
        if (left && !settled && !state.syncAgain) {
          // A reply that settles nothing would otherwise be asked again at once, forever.
          failed({});
          return;
        }
        state.failing = false;
        state.retryDelay = RETRY_FIRST_MS;
        state.batchSize = BATCH;
        renderStatus();
        if (left) sync();
      })
      .catch(function (error) {
        clearTimeout(timeout);
        state.syncing = false;
        failed(error || {});
      });
  }

  function failed(error) {
    state.failing = true;
    renderStatus();
    var delay = Math.max(state.retryDelay, Math.min((error.retryAfter || 0) * 1000, RETRY_MAX_MS));
    state.retryDelay = Math.min(state.retryDelay * 2, RETRY_MAX_MS);
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(sync, delay);
  }

  function deviceRemoved() {
    state.removed = true;
    [state.retryTimer, state.screenTimer, state.idleTimer, state.settleTimer].forEach(clearTimeout);
    Object.keys(screens).forEach(function (key) { screens[key].hidden = true; });
    attract.hidden = true;
    applyTexts();
    removedScreen.hidden = false;
    cover(true);
    // Queued answers stay in localStorage (they are never dropped unanswered), but the page and
    // its files go: a revoked tablet reloaded offline must not come back as a working kiosk.
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.getRegistration(config.page_url).then(function (registration) {
        if (!registration) return;
        var cache = "cxkiosk:" + registration.scope;
        return registration.unregister().then(function () {
          return window.caches ? window.caches.delete(cache) : null;
        });
      }).catch(function () {});
    }
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator) || !config.sw_url) return;
    navigator.serviceWorker
      .register(config.sw_url, { scope: config.page_url })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        // The worker cannot know the static files' (hashed) names itself.
        if (registration.active && !state.removed) {
          registration.active.postMessage({ type: "cache", urls: [config.page_url].concat(config.static_urls || []) });
        }
      })
      .catch(function () {
        // Without it the kiosk still works, only a reload while offline shows the browser's error.
      });
  }

  // --- wiring ---------------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target || target.disabled || state.removed) return;
    if (target === attract) hideAttract();
    else if (target.hasAttribute("data-language")) setLanguage(target.getAttribute("data-language"));
    else if (target.hasAttribute("data-face")) chooseFace(parseInt(target.getAttribute("data-face"), 10));
    else if (target.hasAttribute("data-skip")) onFollowUpDone(false);
    else if (target.hasAttribute("data-option")) {
      if (Date.now() < state.settleUntil) return;
      state.choice = target.getAttribute("data-option");
      document.querySelectorAll("[data-option]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === target));
      });
    }
  });
  if (followUpForm) {
    followUpForm.addEventListener("submit", function (event) {
      event.preventDefault();
      onFollowUpDone(true);
    });
  }
  // Any touch or key keeps the screen from resetting or turning to the attract screen.
  ["pointerdown", "keydown", "input"].forEach(function (type) {
    document.addEventListener(type, armIdle, true);
  });
  window.addEventListener("online", function () {
    state.retryDelay = RETRY_FIRST_MS;
    sync();
  });
  window.addEventListener("offline", renderStatus);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sync();
  });

  var leftover = load(DRAFT_KEY, null);
  if (leftover && leftover.id && leftover.answers) {
    enqueue(leftover); // a reload during a follow-up: the face still counts
    save(DRAFT_KEY, null);
  }
  applyTexts();
  show("question");
  registerWorker();
  sync();
})();
