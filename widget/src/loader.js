/* « Je fais un retour » — the loader every procedure page includes (served as /widget.js).
 *
 * It must stay tiny (budget: 1.5 KB gzipped), so it only:
 *  - turns each <a data-retour="procedure-id"> into a <button> (the link stays the no-JS path),
 *  - sends one "view" impression per procedure and page load, with the page's load time,
 *  - loads the dialog (script + styles) on the first click, or when the outbox holds
 *    submissions that could not be sent on an earlier visit (or receipts not yet shown).
 * If the dialog cannot load (offline, a proxy, a policy), it says so next to the button and
 * never leaves the page: offline, the browser's error page would replace the procedure. It
 * tries again once the browser is back online; otherwise the message links the hosted form.
 * Everything else lives in dialog.js. Nothing here sets a cookie or reads one.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  // Loaded twice (two snippets on one page): the first copy does the work.
  if (!script || window.JeFaisUnRetour) return;

  // The service is wherever this script came from, unless the tag says otherwise.
  var base = script.getAttribute('data-retour-endpoint') ||
    script.src.replace(/\/widget\.js([?#].*)?$/, '');
  // Replaced by the server with the dialog assets' content hash (immutable URLs).
  var version = '__RETOUR_VERSION__';
  var english = /^en/i.test(document.documentElement.lang);
  // No query string or fragment: they often carry personal data.
  var pageUrl = location.origin + location.pathname;
  var api = window.JeFaisUnRetour = { base: base, version: version, en: english, want: null };
  var loading = false;

  function beacon(procedureId, event, loadMs) {
    var url = base + '/api/v1/impressions';
    // JSON sent as text/plain: a "simple" request, so the browser makes no CORS preflight.
    var body = JSON.stringify({ procedure_id: procedureId, event: event, page_url: pageUrl,
      load_ms: loadMs });
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
      fetch(url, { method: 'POST', body: body, keepalive: true, credentials: 'omit', mode: 'no-cors' });
    } catch (e) { /* counting views must never break the page */ }
  }

  // The view carries how long this page took to load (Navigation Timing), once it has.
  function viewed(procedureId) {
    if (document.readyState !== 'complete') {
      return addEventListener('load', function () { setTimeout(viewed, 0, procedureId); });
    }
    var nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
    beacon(procedureId, 'view', nav && nav.loadEventEnd > 0 ? Math.round(nav.loadEventEnd) : void 0);
  }

  // A short message after the button, read out (role=status), in the page's own styles.
  function say(button, text, href) {
    var note = button.nextSibling;
    if (!note || note.className !== 'retour-note') {
      note = document.createElement('span');
      note.className = 'retour-note';
      note.setAttribute('role', 'status');
      button.parentNode.insertBefore(note, button.nextSibling);
    }
    // Filled a moment after it exists, so that screen readers announce it.
    setTimeout(function () {
      note.textContent = text ? ' ' + text + ' ' : '';
      if (href) {
        var link = document.createElement('a');
        link.href = href;
        link.textContent = english ? 'Open the form on its own page' : 'Ouvrir le formulaire sur sa propre page';
        note.appendChild(link);
      }
    }, 50);
  }

  function loadDialog() {
    if (loading) return;
    loading = true;
    var tag = document.createElement('script');
    tag.src = base + '/widget/' + version + '/dialog.js';
    tag.async = true;
    tag.onerror = function () {
      loading = false;
      tag.remove();
      // Clicked meanwhile: [procedure id, button, hosted form address].
      var want = api.want;
      if (!want) return;
      if (navigator.onLine === false) {
        say(want[1], english ? 'You are offline: the form will open once you are back online.'
          : 'Vous êtes hors connexion : le formulaire s’ouvrira dès le retour de la connexion.');
        window.addEventListener('online', function () {
          say(want[1], '');
          loadDialog();
        }, { once: true });
      } else {
        say(want[1], english ? 'The form could not open here.' : 'Le formulaire n’a pas pu s’ouvrir ici.', want[2]);
      }
    };
    document.head.appendChild(tag);
  }

  function open(procedureId, button, href) {
    beacon(procedureId, 'open');
    if (api.open) return api.open(procedureId, button);
    api.want = [procedureId, button, href];
    loadDialog();
  }

  function upgrade(link, seen) {
    var procedureId = link.getAttribute('data-retour');
    if (!procedureId) return;
    var button = document.createElement('button');
    var label = link.getAttribute('data-retour-label');
    button.type = 'button';
    button.className = link.className;
    if (link.id) button.id = link.id;
    button.setAttribute('aria-haspopup', 'dialog');
    button.setAttribute('data-retour', procedureId);
    if (label) button.textContent = label;
    // Keep what the ministry put in the link (text, image with its alt) as the button's content.
    else while (link.firstChild) button.appendChild(link.firstChild);
    if (!button.textContent.trim() && !button.querySelector('img[alt]')) {
      button.textContent = english ? 'Give feedback' : 'Je fais un retour';
    }
    button.addEventListener('click', function () { open(procedureId, button, link.href); });
    link.parentNode.replaceChild(button, link);
    if (!seen[procedureId]) {
      seen[procedureId] = 1;
      viewed(procedureId);
    }
  }

  function start() {
    var links = document.querySelectorAll('a[data-retour]');
    var seen = {};
    for (var i = 0; i < links.length; i++) upgrade(links[i], seen);
    // Submissions kept from an earlier visit (offline, closed tab): the dialog script sends them
    // and shows their tracking codes.
    try {
      if (localStorage.getItem('retour-outbox')) loadDialog();
    } catch (e) { /* storage disabled: nothing can be waiting */ }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
