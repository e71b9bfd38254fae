/* « Je fais un retour » — sending, and the outbox that makes sure nothing is lost.
 *
 * A submission goes to a localStorage outbox before its first attempt. Once the service has
 * accepted it (202), the entry keeps only its tracking code until the citizen has seen it (in
 * the dialog, or on the next page where the widget runs if it was sent later); refused for
 * good (4xx), it leaves. Retries keep the same client_id, so the service stores it once
 * however often it arrives. An expired token (403) is replaced and the submission sent again
 * without the citizen noticing.
 *
 * Part of the dialog script (see texts.js); uses `api` and `base` from there.
 */

var OUTBOX = 'retour-outbox';

function uuid() {
  // RFC 9562 version 7: 48 bits of milliseconds, then 74 random bits. Submissions made about
  // the same time sort together, so the service's unique index on client_id takes a batch on
  // a few pages instead of a page per row (bench/wal_pages.py: random ones write 1.35x the
  // pages of a commit).
  var bytes = new Uint8Array(16);
  if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
  else for (var i = 0; i < 16; i++) bytes[i] = Math.random() * 256;
  for (var ms = Date.now(), j = 5; j >= 0; j--, ms = Math.floor(ms / 256)) bytes[j] = ms % 256;
  bytes[6] = (bytes[6] & 15) | 112;
  bytes[8] = (bytes[8] & 63) | 128;
  var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
}

function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

// --- Outbox: what the citizen sent and the service has not yet accepted -------------------------

function readOutbox() {
  try { return JSON.parse(localStorage.getItem(OUTBOX)) || []; } catch (e) { return []; }
}

function writeOutbox(entries) {
  try {
    if (entries.length) localStorage.setItem(OUTBOX, JSON.stringify(entries));
    else localStorage.removeItem(OUTBOX);
  } catch (e) { /* storage full or disabled: the in-page retries still run */ }
}

function keep(entry) {
  var entries = readOutbox().filter(function (e) { return e.client_id !== entry.client_id; });
  entries.push(entry);
  writeOutbox(entries);
}

function forget(clientId) {
  writeOutbox(readOutbox().filter(function (e) { return e.client_id !== clientId; }));
}

// Accepted: nothing the citizen wrote stays on the device, only what they must still be told.
function sent(clientId, receipt) {
  writeOutbox(readOutbox().map(function (e) {
    return e.client_id !== clientId ? e : { procedure_id: e.procedure_id, client_id: clientId, receipt: receipt };
  }));
}

// --- Talking to the service ----------------------------------------------------------------------

var configs = {};

function loadConfig(procedureId, fresh) {
  if (!fresh && configs[procedureId]) return configs[procedureId];
  var url = base + '/api/v1/procedures/' + encodeURIComponent(procedureId) + '/form?lang=' + (api.en ? 'en' : 'fr');
  var pending = fetch(url, { credentials: 'omit' }).then(function (response) {
    if (!response.ok) throw response;
    return response.json();
  });
  configs[procedureId] = pending;
  pending.catch(function () { if (configs[procedureId] === pending) delete configs[procedureId]; });
  return pending;
}

// Resolves with {id, receipt}; rejects with {field, code} when the service refuses it for good.
// Calls onDelay() once when a first attempt failed for a reason worth waiting out.
async function deliver(entry, onDelay) {
  var wait = 1000;
  var refreshed = false;
  for (var attempt = 0; ; attempt++) {
    var response = null;
    try {
      var config = await loadConfig(entry.procedure_id, false);
      var body = Object.assign({ token: config.token }, entry);
      response = await fetch(base + '/api/v1/feedback', {
        method: 'POST', body: JSON.stringify(body), credentials: 'omit', keepalive: true,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' }
      });
    } catch (failure) {
      // A failed form request is a Response; a network failure is an exception.
      response = failure && failure.status ? failure : null;
    }
    if (response && (response.status === 202 || response.status === 200)) {
      var accepted = await response.json();
      sent(entry.client_id, accepted.receipt);
      return accepted;
    }
    var status = response ? response.status : 0;
    if (status === 403) {
      // Expired or foreign token: a fresh one, then the same submission again, silently.
      loadConfig(entry.procedure_id, true);
      if (!refreshed) {
        refreshed = true;
        continue;
      }
    } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      var error = {};
      try { error = (await response.json()).error || {}; } catch (e) { /* not JSON */ }
      forget(entry.client_id);
      throw error;
    }
    if (attempt === 0 && onDelay) onDelay();
    if (attempt >= 6) throw null;  // stays in the outbox for the next page load
    var retryAfter = response && Number(response.headers.get('Retry-After'));
    await sleep(retryAfter ? retryAfter * 1000 : wait);
    wait = Math.min(wait * 2, 30000);
  }
}

var flushing = false;

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    var entries = readOutbox();
    for (var i = 0; i < entries.length; i++) {
      if (entries[i].receipt) continue;  // sent already, its code not yet shown
      try { await deliver(entries[i]); } catch (e) { /* kept or dropped by deliver */ }
    }
  } finally {
    flushing = false;
  }
  announce(readOutbox().filter(function (e) { return e.receipt; }));
}
