/* cxFeedback: a cxplatform survey on a customer's own website, served as {base}/embed.js.
 *
 *   <script src="https://cx.example.com/embed.js" data-survey="SLUG" async></script>
 *
 * One script tag per survey; several may share a page. Its data attributes:
 *   data-survey              the survey's link slug (required)
 *   data-lang                fi, sv, en...; else the page's <html lang>, else the survey's default
 *   data-mode                "inline" (with data-target, a CSS selector: the survey goes into
 *                            that element) or "slide-in" (a panel at the bottom right; a bottom
 *                            sheet on phones); without it, inline when data-target is given
 *   data-trigger             "load" (the default, after data-delay seconds, default 0);
 *                            "event" with data-event=NAME: cxFeedback.trigger(NAME) or
 *                            window.dispatchEvent(new CustomEvent(NAME)); "exit": the pointer
 *                            leaves through the top of the window (desktop only)
 *   data-pages               comma-separated path globs, * for anything ("/checkout*,/cart");
 *                            a trailing slash makes no difference; default all pages
 *   data-sample              percent of visitors, decided once per visitor (default 100)
 *   data-days-between        days before it shows again (default 30)
 *   data-max-shows           shows per visitor, ever (default 3)
 *   data-days-after-answer   days it stays away after the visitor answered (default 90)
 *   data-frequency="on"      applies the four rules above to an inline survey too
 *   data-hidden-NAME=VALUE   stored with the response as hidden field NAME (dashes become
 *                            underscores); the field "page" is always the page's path
 *
 * window.cxFeedback.trigger(name) fires an event for every survey waiting for it; show(slug)
 * opens a survey at once whatever its trigger, pages, sample or frequency (for a "Give feedback"
 * button; the survey's own origin rules still apply); hide(slug) closes it.
 *
 * No cookies: what a visitor has seen and answered is kept in the host page's localStorage under
 * "cxfeedback:<slug>". Where the browser refuses storage, surveys under frequency rules do not
 * show at all, since they could not keep their promise to stay away.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || !script.dataset.survey) {
    console.warn("cxFeedback: the script tag needs data-survey (and must not be a module).");
    return;
  }
  // Every copy of this script defines the same API; the surveys listen for these window events,
  // so no registry has to be shared between the copies (nor exposed as another global).
  const TRIGGER = "cxfeedback:trigger";
  const SHOW = "cxfeedback:show";
  const HIDE = "cxfeedback:hide";
  if (!window.cxFeedback) {
    const send = (type, detail) => window.dispatchEvent(new CustomEvent(type, { detail }));
    window.cxFeedback = Object.freeze({
      trigger: (name) => send(TRIGGER, { name: String(name) }),
      show: (slug) => send(SHOW, { slug: String(slug) }),
      hide: (slug) => send(HIDE, { slug: String(slug) }),
    });
  }

  const DAY = 864e5;
  const Z_TOP = "2147483000";
  const data = script.dataset;
  const slug = data.survey;
  const scriptUrl = new URL(script.src, location.href);
  const number = (value, fallback) => {
    const parsed = parseFloat(value);
    return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
  };
  const lang = (data.lang || document.documentElement.lang || "").trim().toLowerCase().split(/[-_]/)[0];
  const mode = ["inline", "slide-in"].includes(data.mode) ? data.mode : data.target ? "inline" : "slide-in";
  const ruled = mode === "slide-in" || data.frequency === "on";
  const rules = {
    sample: Math.min(number(data.sample, 100), 100),
    daysBetween: number(data.daysBetween, 30),
    maxShows: number(data.maxShows, 3),
    daysAfterAnswer: number(data.daysAfterAnswer, 90),
  };
  const warn = (message) => console.warn(`cxFeedback: survey "${slug}": ${message}`);

  // --- the visitor's state, in the host page's localStorage ---

  const KEY = "cxfeedback:" + slug;
  const load = () => {
    try {
      const kept = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      return kept && typeof kept === "object" ? kept : {};
    } catch (blockedOrGarbled) {
      return null;
    }
  };
  const save = (state) => {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(state));
      return true;
    } catch (blocked) {
      return false;
    }
  };
  const remember = (change) => {
    const state = load();
    if (state) save(Object.assign(state, change));
  };

  const withoutSlash = (path) => (path.length > 1 ? path.replace(/\/+$/, "") : path);
  const pageMatches = () => {
    if (!data.pages) return true;
    const path = withoutSlash(location.pathname);
    return data.pages
      .split(",")
      .map((glob) => withoutSlash(glob.trim()))
      .filter(Boolean)
      .some((glob) => {
        const parts = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
        return new RegExp("^" + parts.join(".*") + "$").test(path);
      });
  };

  const eligible = () => {
    if (!pageMatches()) return false;
    if (!ruled) return true;
    const state = load();
    if (!state) return false;
    // A changed percentage is a new draw: the site asked for a different share of visitors.
    if (!state.sample || state.sample.percent !== rules.sample) {
      state.sample = { percent: rules.sample, in: Math.random() * 100 < rules.sample };
      if (!save(state)) return false;
    }
    const now = Date.now();
    return (
      state.sample.in === true &&
      !(state.answered && now - state.answered < rules.daysAfterAnswer * DAY) &&
      (state.shows || 0) < rules.maxShows &&
      !(state.shown && now - state.shown < rules.daysBetween * DAY)
    );
  };

  // --- the survey's configuration, from the server the script came from ---

  let configured = null;
  const config = () => {
    if (!configured) {
      const url = new URL(`e/${encodeURIComponent(slug)}/config/`, scriptUrl);
      if (lang) url.searchParams.set("lang", lang);
      configured = fetch(url.href, { credentials: "omit", mode: "cors" })
        .then((answer) => {
          if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
          return answer.json();
        })
        .then((survey) => {
          const url = survey && typeof survey.url === "string" ? new URL(survey.url) : null;
          if (!url || !/^https?:$/.test(url.protocol)) throw new Error("unexpected configuration");
          return survey;
        })
        .catch((error) => {
          // A refused origin gets no CORS header, so the browser reports only a failed fetch.
          warn(`not shown (${error.message}); is this site among the survey's allowed origins?`);
          return null;
        });
    }
    return configured;
  };

  const domReady = new Promise((resolve) => {
    if (document.readyState !== "loading") resolve();
    else document.addEventListener("DOMContentLoaded", resolve, { once: true });
  });

  // --- showing and hiding ---

  let open = null; // {frame, origin, close()} while the survey is on the page
  let opening = false;

  const frameFor = (survey) => {
    const src = new URL(survey.url);
    if (lang && Array.isArray(survey.languages) && survey.languages.includes(lang)) {
      src.searchParams.set("lang", lang);
    }
    for (const attribute of Array.from(script.attributes)) {
      const name = attribute.name.slice("data-hidden-".length);
      if (attribute.name.startsWith("data-hidden-") && name) {
        src.searchParams.set("hidden_" + name.replace(/-/g, "_"), attribute.value);
      }
    }
    // The path only: a query string can carry e-mail addresses, tokens and the like.
    src.searchParams.set("hidden_page", location.pathname);
    const frame = document.createElement("iframe");
    frame.src = src.href;
    frame.title = String(survey.title || "");
    frame.setAttribute("sandbox", "allow-forms allow-scripts allow-same-origin allow-popups");
    frame.referrerPolicy = "strict-origin";
    if (mode === "inline") frame.loading = "lazy";
    Object.assign(frame.style, { display: "block", width: "100%", height: "420px", border: "0" });
    return frame;
  };

  const showInline = (survey) => {
    let target = null;
    try {
      target = data.target ? document.querySelector(data.target) : null;
    } catch (badSelector) {
      target = null;
    }
    if (!target) {
      warn(`no element matches data-target "${data.target || ""}".`);
      return null;
    }
    const frame = frameFor(survey);
    target.appendChild(frame);
    return { frame, close: () => frame.remove() };
  };

  const showPanel = (survey) => {
    const narrow = window.matchMedia("(max-width: 599px)");
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    // Styles are set through the DOM (the host's CSP may refuse <style> and style attributes) on
    // elements in a shadow root, where the host page's own rules cannot reach them.
    const host = document.createElement("div");
    const root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    const panel = document.createElement("div");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", String(survey.title || ""));
    panel.tabIndex = -1;
    const bar = document.createElement("div");
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", String(survey.close || "Close"));
    close.title = String(survey.close || "Close");
    const scroller = document.createElement("div");
    const frame = frameFor(survey);
    bar.appendChild(close);
    scroller.appendChild(frame);
    panel.append(bar, scroller);
    root.appendChild(panel);

    Object.assign(host.style, {
      position: "fixed", zIndex: Z_TOP, boxSizing: "border-box", background: "#fff", color: "#1a1a1a",
      boxShadow: "0 8px 32px rgba(0, 0, 0, .35)", overflow: "hidden",
      display: "flex", flexDirection: "column",
      transition: still ? "none" : "transform .25s ease-out", transform: "translateY(calc(100% + 24px))",
    });
    Object.assign(panel.style, {
      display: "flex", flexDirection: "column", flex: "1 1 auto", minHeight: "0", outline: "none",
    });
    Object.assign(bar.style, { display: "flex", justifyContent: "flex-end", padding: "4px 4px 0" });
    Object.assign(close.style, {
      minWidth: "44px", minHeight: "44px", font: "28px/1 system-ui, sans-serif", color: "#1a1a1a",
      background: "transparent", border: "0", borderRadius: "6px", cursor: "pointer",
    });
    Object.assign(scroller.style, {
      overflowY: "auto", overscrollBehavior: "contain", flex: "1 1 auto", minHeight: "0",
    });
    const place = () => {
      const phone = narrow.matches;
      Object.assign(host.style, {
        left: phone ? "0" : "auto", right: phone ? "0" : "16px", bottom: phone ? "0" : "16px",
        width: phone ? "100%" : "400px", maxWidth: phone ? "none" : "calc(100vw - 32px)",
        maxHeight: phone ? "85vh" : "calc(100vh - 32px)", borderRadius: phone ? "12px 12px 0 0" : "8px",
      });
    };
    place();
    if (narrow.addEventListener) narrow.addEventListener("change", place);

    const returnTo = document.activeElement;
    document.body.appendChild(host);
    host.getBoundingClientRect(); // lay out the hidden position first, so the move is animated
    host.style.transform = "none";
    panel.focus({ preventScroll: true });

    const dismiss = () => {
      if (narrow.removeEventListener) narrow.removeEventListener("change", place);
      // Focus goes back only if it is still ours: the visitor may have moved on already.
      const ours = document.activeElement === host;
      if (ours && returnTo && returnTo !== document.body && returnTo.isConnected) {
        returnTo.focus({ preventScroll: true });
      }
      if (still) return host.remove();
      host.style.transform = "translateY(calc(100% + 24px))";
      host.addEventListener("transitionend", () => host.remove(), { once: true });
      setTimeout(() => host.remove(), 400);
    };
    close.addEventListener("click", () => hide());
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        hide();
      }
    });
    return { frame, close: dismiss };
  };

  const present = async (forced) => {
    if (open || opening || (!forced && !eligible())) return;
    opening = true;
    const survey = await config();
    await domReady;
    opening = false;
    if (!survey || open) return;
    const shown = mode === "inline" ? showInline(survey) : showPanel(survey);
    if (!shown) return;
    open = Object.assign(shown, { origin: new URL(shown.frame.src).origin });
    if (ruled) {
      const state = load() || {};
      remember({ shown: Date.now(), shows: (state.shows || 0) + 1 });
    }
  };

  const hide = () => {
    if (!open) return;
    const closing = open;
    open = null;
    closing.close();
  };

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (!open || event.source !== open.frame.contentWindow || event.origin !== open.origin) return;
    if (!message || message.source !== "cxfeedback") return;
    if (message.type === "height" && Number.isFinite(message.height)) {
      open.frame.style.height = Math.min(Math.max(Math.ceil(message.height), 40), 20000) + "px";
    } else if (message.type === "answered") {
      remember({ answered: Date.now() });
      if (mode === "slide-in") {
        const answered = open;
        setTimeout(() => open === answered && hide(), 3000);
      }
    } else if (message.type === "escape" && mode === "slide-in") {
      hide();
    }
  });
  window.addEventListener(SHOW, (event) => event.detail && event.detail.slug === slug && present(true));
  window.addEventListener(HIDE, (event) => event.detail && event.detail.slug === slug && hide());

  const trigger = data.trigger || "load";
  if (trigger === "load") {
    setTimeout(() => present(false), number(data.delay, 0) * 1000);
  } else if (trigger === "event" && data.event) {
    // Asked for early, so the panel opens at once when the moment comes.
    if (eligible()) config();
    window.addEventListener(data.event, () => present(false));
    window.addEventListener(TRIGGER, (event) => {
      if (event.detail && event.detail.name === data.event) present(false);
    });
  } else if (trigger === "exit") {
    if (window.matchMedia("(hover: hover) and (pointer: fine)").matches && eligible()) {
      config();
      const leaving = (event) => {
        if (event.relatedTarget || event.clientY > 0) return;
        document.removeEventListener("mouseout", leaving);
        present(false);
      };
      document.addEventListener("mouseout", leaving);
    }
  } else {
    warn(`unknown data-trigger "${trigger}" (or data-event missing).`);
  }
})();
