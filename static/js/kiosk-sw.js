/* The kiosk's service worker, served by distribution/views/kiosk.py at /k/<token>/sw.js, so its
 * scope is that one kiosk's page. It keeps the page, kiosk.js and kiosk.css so that a tablet
 * reloaded or restarted without network still shows the kiosk (the answers themselves wait in the
 * page's localStorage, not here).
 *
 * - Network first: a deploy or a revocation reaches the tablet as soon as it is online; the copy
 *   is used only when the network fails or is slower than NETWORK_TIMEOUT_MS.
 * - Only GET requests for what it keeps are answered; the answers' POST is never touched, let
 *   alone cached.
 * - The page sends the static files' (hashed) names in a "cache" message; older names are dropped.
 * - A page answered with 404 or 410 (the device is gone) empties the cache.
 */
"use strict";

var SCOPE = self.registration.scope; // absolute, ends with "/": the kiosk page itself
var CACHE = "cxkiosk:" + SCOPE;
var NETWORK_TIMEOUT_MS = 5000;

function fetchFresh(url) {
  return fetch(new Request(url, { cache: "no-cache", credentials: "same-origin" }));
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(CACHE)
      .then(function (cache) {
        return fetchFresh(SCOPE).then(function (response) {
          if (response.ok) return cache.put(SCOPE, response);
        });
      })
      .catch(function () {})
      // A kiosk tab is never closed, so a new version must not wait for it to be.
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  var urls = data.urls
    .map(function (url) { return new URL(url, SCOPE); })
    .filter(function (url) { return url.origin === self.location.origin; })
    .map(function (url) { return url.href; });
  if (urls.indexOf(SCOPE) < 0) urls.push(SCOPE);
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      var stored = urls.map(function (url) {
        return fetchFresh(url)
          .then(function (response) { if (response.ok) return cache.put(url, response); })
          .catch(function () {}); // offline: keep the copy there is
      });
      return Promise.all(stored)
        .then(function () { return cache.keys(); })
        .then(function (requests) {
          return Promise.all(
            requests
              .filter(function (request) { return urls.indexOf(request.url) < 0; })
              .map(function (request) { return cache.delete(request); })
          );
        });
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname === new URL(SCOPE).pathname) event.respondWith(networkFirst(event, SCOPE, true));
    return;
  }
  var key = url.origin + url.pathname;
  event.respondWith(
    caches.open(CACHE).then(function (cache) {
      return cache.match(key, { ignoreVary: true }).then(function (kept) {
        // Not one of the kept files: the browser's own handling, as if there were no worker.
        return kept ? networkFirst(event, key, false) : fetch(request);
      });
    })
  );
});

function networkFirst(event, key, isPage) {
  var cached = function () {
    return caches.open(CACHE).then(function (cache) { return cache.match(key, { ignoreVary: true }); });
  };
  var network = fetch(event.request).then(function (response) {
    var kept = remember(key, response.clone(), isPage);
    try {
      event.waitUntil(kept);
    } catch (error) {
      // The copy already answered and the event is over; the write goes on all the same.
    }
    return response;
  });
  var slow = new Promise(function (resolve) { setTimeout(resolve, NETWORK_TIMEOUT_MS); })
    .then(cached)
    .then(function (kept) { return kept || network; });
  return Promise.race([network, slow]).catch(function () {
    return cached().then(function (kept) { return kept || Response.error(); });
  });
}

function remember(key, response, isPage) {
  return caches.open(CACHE).then(function (cache) {
    if (response.ok && !response.redirected) return cache.put(key, response);
    if (isPage && (response.status === 404 || response.status === 410)) return caches.delete(CACHE);
  });
}
