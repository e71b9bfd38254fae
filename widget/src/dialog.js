/* « Je fais un retour » — the dialog, loaded by the loader on the first click (or to send the outbox).
 *
 * The dialog lives in an open shadow root: host-page styles do not reach it and its own
 * styles (dialog.css, linked — never inline, so a strict CSP allowing only the service's
 * origin is enough) do not leak out. A constructed stylesheet (adoptedStyleSheets) would
 * save a request, and Chromium does not hold it to style-src today, but no specification
 * says it never will: a linked sheet is what every policy allows by design.
 * The DOM is built node by node, never from HTML strings, so the procedure title is text
 * and the code keeps working under Trusted Types.
 *
 * The build wraps pii.js (the browser copy of the personal-data rules,
 * `retourPii.detect(text) -> [category, ...]`), texts.js, send.js and this file in one IIFE.
 */

// h('p', {id: 'x'}, 'text', child) — attributes set one by one; strings become text nodes.
function h(tag, attrs) {
  var node = document.createElement(tag);
  for (var key in attrs) if (attrs[key] != null) node.setAttribute(key, attrs[key]);
  for (var i = 2; i < arguments.length; i++) {
    var child = arguments[i];
    if (child != null) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

// --- The dialog ----------------------------------------------------------------------------------

var dialogs = {};

function radios(name, legend, values, labels, required) {
  var list = h('div', { class: 'choices' });
  var errorId = name + '-error';
  for (var i = 0; i < values.length; i++) {
    var id = name + '-' + values[i];
    list.appendChild(h('div', { class: 'choice' },
      h('input', { type: 'radio', id: id, name: name, value: values[i], required: required ? '' : null }),
      h('label', { for: id }, labels[i])));
  }
  return h('fieldset', { id: name + '-group' },
    h('legend', null, legend),
    h('p', { id: errorId, class: 'error', hidden: '' }),
    list);
}

function build(procedureId, button) {
  var host = h('retour-dialog', { 'data-procedure': procedureId });
  var root = host.attachShadow({ mode: 'open' });
  var sheet = h('link', { rel: 'stylesheet', href: base + '/widget/' + api.version + '/dialog.css' });
  root.appendChild(sheet);
  var ui = { host: host, root: root, button: button, procedureId: procedureId };

  var titleId = 'title';
  var procedure = h('p', { class: 'procedure', hidden: '' });
  var close = h('button', { type: 'button', class: 'close' }, T.close);
  var status = h('div', { role: 'status', class: 'status' });
  var form = h('form', { novalidate: '' });
  var comment = h('textarea', {
    id: 'comment', name: 'comment', rows: '5', maxlength: String(MAX),
    'aria-describedby': 'comment-hint comment-count comment-cut comment-pii'
  });
  var count = h('p', { id: 'comment-count', class: 'hint' }, T.left(MAX));
  // Said once when a paste did not fit: maxlength cuts it without a word otherwise.
  var cut = h('p', { id: 'comment-cut', class: 'notice', 'aria-live': 'polite' });
  // Polite: read after what the citizen is typing, and it never moves the focus.
  var pii = h('p', { id: 'comment-pii', class: 'notice', 'aria-live': 'polite' });
  var wants = h('input', { type: 'checkbox', id: 'wants-answer', 'aria-controls': 'email-block' });
  var email = h('input', {
    type: 'email', id: 'email', name: 'contact_email', autocomplete: 'email', spellcheck: 'false',
    'aria-describedby': 'email-hint email-error'
  });
  var emailBlock = h('div', { id: 'email-block', class: 'group', hidden: '' },
    h('label', { for: 'email' }, T.email),
    h('p', { id: 'email-hint', class: 'hint' }, T.emailHint),
    h('p', { id: 'email-error', class: 'error', hidden: '' }),
    email);
  var send = h('button', { type: 'submit', class: 'primary' }, T.send);

  form.append(
    h('p', { class: 'hint' }, T.required),
    radios('satisfaction', T.sat, ['3', '2', '1'], T.sats, true),
    radios('kind', T.kind, KINDS, T.kinds, false),
    h('div', { class: 'group' },
      h('label', { for: 'comment' }, T.comment),
      h('p', { id: 'comment-hint', class: 'hint' }, T.commentHint),
      comment, count, cut, pii),
    h('div', { class: 'group check' }, wants, h('label', { for: 'wants-answer' }, T.answer)),
    emailBlock,
    h('div', { class: 'actions' }, send));

  var body = h('div', { class: 'body' }, h('h2', { id: titleId, tabindex: '-1' }, T.title), procedure, form, status);
  var dialog = h('dialog', { 'aria-labelledby': titleId, 'aria-modal': 'true', lang: api.en ? 'en' : 'fr' },
    h('div', { class: 'bar' }, close), body);
  root.appendChild(dialog);
  document.body.appendChild(host);

  ui.dialog = dialog; ui.form = form; ui.status = status; ui.body = body; ui.title = body.firstChild;
  ui.sheet = sheet; ui.procedure = procedure;

  comment.addEventListener('input', function () {
    count.textContent = T.left(MAX - comment.value.length);
    if (comment.value.length < MAX) cut.textContent = '';
    notePii(ui, comment.value, wants.checked);
  });
  comment.addEventListener('paste', function (event) {
    // Line breaks count once, as maxlength counts them.
    var pasted = (event.clipboardData ? event.clipboardData.getData('text') : '').replace(/\r\n?/g, '\n');
    var room = MAX - comment.value.length + comment.selectionEnd - comment.selectionStart;
    if (pasted.length > room) cut.textContent = T.cut(MAX);
  });
  wants.addEventListener('change', function () {
    emailBlock.hidden = !wants.checked;
    notePii(ui, comment.value, wants.checked);
    fixed(ui, 'email', emailError(ui));
  });
  email.addEventListener('input', function () { fixed(ui, 'email', emailError(ui)); });
  form.addEventListener('change', function (event) {
    if (event.target.name === 'satisfaction') fixed(ui, 'satisfaction', '');
  });
  close.addEventListener('click', function () { hide(ui); });
  dialog.addEventListener('cancel', function (event) { event.preventDefault(); hide(ui); });
  dialog.addEventListener('keydown', function (event) { trap(ui, event); });
  form.addEventListener('submit', function (event) { event.preventDefault(); submit(ui); });
  ui.fields = { comment: comment, wants: wants, email: email, send: send };
  return ui;
}

var piiTimer = 0;

function notePii(ui, text, wantsAnswer) {
  clearTimeout(piiTimer);
  // Wait for a pause in typing, so a screen reader is not interrupted at every key.
  piiTimer = setTimeout(function () {
    var found = typeof retourPii === 'object' ? retourPii.detect(text) : [];
    var names = [];
    found.forEach(function (cat) {
      var name = T.cats[cat] || T.other;
      if (names.indexOf(name) < 0) names.push(name);
    });
    var message = '';
    if (names.length) {
      var what = names.length > 1 ? names.slice(0, -1).join(', ') + T.and + names[names.length - 1] : names[0];
      message = T.pii(what, names.length > 1) + (wantsAnswer ? '' : T.piiAnswer);
    }
    var node = ui.root.getElementById('comment-pii');
    if (node.textContent !== message) node.textContent = message;
  }, 600);
}

function focusables(ui) {
  var nodes = ui.dialog.querySelectorAll('button, a[href], input, textarea');
  return Array.prototype.filter.call(nodes, function (node) {
    return !node.disabled && node.getClientRects().length > 0;
  });
}

// Tab and Shift+Tab go round inside the dialog; Escape closes it.
function trap(ui, event) {
  if (event.key === 'Escape') {
    event.preventDefault();
    hide(ui);
    return;
  }
  if (event.key !== 'Tab') return;
  var nodes = focusables(ui);
  var first = nodes[0];
  var last = nodes[nodes.length - 1];
  var active = ui.root.activeElement;
  if (event.shiftKey && (active === first || active === ui.title || !active)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && active === last) {
    event.preventDefault();
    first.focus();
  }
}

function show(ui) {
  if (!ui.dialog.open) ui.dialog.showModal();
  ui.title.focus();
  ui.opened = true;
}

function hide(ui) {
  if (ui.dialog.open) ui.dialog.close();
  if (ui.done) reset(ui);
  if (ui.button && ui.button.isConnected) ui.button.focus();
}

// After a thank-you, the next opening starts a new submission.
function reset(ui) {
  ui.host.remove();
  delete dialogs[ui.procedureId];
}

function setError(ui, field, message) {
  var root = ui.root;
  var error = root.getElementById(field + '-error');
  var inputs = field === 'email' ? [ui.fields.email] : root.querySelectorAll('input[name="' + field + '"]');
  error.textContent = message || '';
  error.hidden = !message;
  Array.prototype.forEach.call(inputs, function (input) {
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    if (field !== 'email') input.setAttribute('aria-describedby', field + '-error');
  });
  return inputs[0];
}

// An error shown earlier goes as soon as its field is valid; a new one waits for Envoyer.
function fixed(ui, field, message) {
  var error = ui.root.getElementById(field + '-error');
  if (!error.hidden && !message) setError(ui, field, '');
  else if (!error.hidden) setError(ui, field, message);
}

function emailError(ui) {
  var fields = ui.fields;
  var address = fields.email.value.trim();
  return !fields.wants.checked ? '' : !address ? T.errEmailNone
    : !/^[^@\s]+@[^@\s]+\.[^@\s]{2,}$/.test(address) ? T.errEmail : '';
}

function value(ui, name) {
  var checked = ui.form.querySelector('input[name="' + name + '"]:checked');
  return checked ? checked.value : null;
}

async function submit(ui) {
  if (ui.busy) return;
  var fields = ui.fields;
  var satisfaction = value(ui, 'satisfaction');
  var address = fields.email.value.trim();
  var invalid = [];
  var badEmail = emailError(ui);
  if (!satisfaction) invalid.push(setError(ui, 'satisfaction', T.errSat));
  else setError(ui, 'satisfaction', '');
  if (badEmail) invalid.push(setError(ui, 'email', badEmail));
  else setError(ui, 'email', '');
  if (invalid.length) {
    // Focus the first field in error: its message is read with it (aria-describedby).
    invalid[0].focus();
    return;
  }
  var entry = ui.entry || {
    procedure_id: ui.procedureId,
    client_id: uuid()
  };
  Object.assign(entry, {
    satisfaction: Number(satisfaction),
    kind: value(ui, 'kind'),
    comment: fields.comment.value,
    contact_email: fields.wants.checked ? address : null,
    page_url: location.origin + location.pathname,
    locale: api.en ? 'en' : 'fr',
    website: ''
  });
  ui.entry = entry;
  keep(entry);
  ui.busy = true;
  fields.send.disabled = true;
  ui.status.textContent = T.sending;
  try {
    var accepted = await deliver(entry, function () { saved(ui); });
    thank(ui, accepted.receipt);
  } catch (error) {
    if (error) {
      // Refused for good (a field the service found invalid): say which, keep what was typed.
      var field = error.field === 'contact_email' ? 'email' : error.field === 'satisfaction' ? 'satisfaction' : null;
      ui.status.textContent = field ? '' : (error.message || T.errOther);
      if (field) setError(ui, field, error.message || T.errOther).focus();
      ui.entry = null;
    }
  } finally {
    ui.busy = false;
    fields.send.disabled = false;
  }
}

function swap(ui, heading, children) {
  ui.form.hidden = true;
  ui.procedure.hidden = true;
  ui.title.textContent = heading;
  ui.status.textContent = '';
  children.forEach(function (child) { ui.status.appendChild(child); });
  ui.done = true;
  if (ui.dialog.open) ui.title.focus();
}

function saved(ui) {
  window.addEventListener('online', flush);
  swap(ui, T.saved, [h('p', null, T.savedText)]);
}

function follow(receipt) {
  return h('a', { href: base + '/suivi/' + encodeURIComponent(receipt), target: '_blank', rel: 'noopener' },
    T.follow, h('span', { class: 'sr-only' }, T.newTab));
}

// "jean@example.fr" -> "j…@example.fr": enough to recognise, not enough to give away.
function hint(address) {
  var at = address.lastIndexOf('@');
  return address.charAt(0) + '…@' + address.slice(at + 1).toLowerCase();
}

function thank(ui, receipt) {
  var address = ui.entry && ui.entry.contact_email;
  swap(ui, T.thanks, [
    h('p', null, T.thanksText),
    h('p', null, T.receipt, h('strong', { class: 'receipt' }, receipt)),
    address ? h('p', null, T.answerTo(hint(address))) : null,
    h('p', null, follow(receipt))
  ].filter(Boolean));
  // Seen: the outbox has nothing more to tell about it.
  if (ui.entry) forget(ui.entry.client_id);
}

// The procedure id matches nothing in the register: say so before anyone writes.
function unknown(ui) {
  swap(ui, T.unknown, [h('p', null, T.unknownText)]);
}

// --- Sent later: the tracking codes of what the outbox delivered -------------------------------

var notice = null;

// `entries`: outbox entries the service accepted ({client_id, receipt}). Each is shown once, in
// its own dialog if it is still on the page, else in a notice at the bottom of the page.
function announce(entries) {
  entries.forEach(function (entry) {
    var mine = null;
    for (var id in dialogs) if (dialogs[id].entry && dialogs[id].entry.client_id === entry.client_id) mine = dialogs[id];
    if (mine) return thank(mine, entry.receipt);
    if (!notice) notice = buildNotice();
    notice.list.appendChild(h('p', null, T.receipt, h('strong', { class: 'receipt' }, entry.receipt), ' ', follow(entry.receipt)));
    forget(entry.client_id);
  });
}

function buildNotice() {
  var host = h('retour-notice');
  var root = host.attachShadow({ mode: 'open' });
  var sheet = h('link', { rel: 'stylesheet', href: base + '/widget/' + api.version + '/dialog.css' });
  var list = h('div');
  var close = h('button', { type: 'button', class: 'close' }, T.close);
  // Not shown before its styles, so it never flashes unstyled at the foot of the page.
  var box = h('section', { class: 'toast', 'aria-labelledby': 'sent-title', lang: api.en ? 'en' : 'fr', hidden: '' },
    h('div', { class: 'bar' }, close),
    h('div', { role: 'status' }, h('h2', { id: 'sent-title' }, T.sentLater), h('p', null, T.sentLaterText), list));
  var reveal = function () { box.hidden = false; };
  sheet.addEventListener('load', reveal);
  sheet.addEventListener('error', reveal);
  setTimeout(reveal, 3000);
  close.addEventListener('click', function () { host.remove(); notice = null; });
  root.append(sheet, box);
  document.body.appendChild(host);
  return { list: list };
}

function openDialog(procedureId, button) {
  var ui = dialogs[procedureId] || (dialogs[procedureId] = build(procedureId, button));
  ui.button = button;
  loadConfig(procedureId, false).then(function (config) {
    if (config.title) {
      ui.procedure.textContent = T.procedure + config.title;
      ui.procedure.hidden = ui.done;
    }
  }, function (failure) {
    // Offline (no Response): the form still works, the outbox will carry it.
    if (failure && failure.status === 404 && !ui.done) unknown(ui);
  });
  // Wait for the stylesheet so the dialog never shows unstyled (but never wait forever).
  if (ui.opened || ui.sheet.sheet) return show(ui);
  var shown = false;
  var once = function () { if (!shown) { shown = true; show(ui); } };
  ui.sheet.addEventListener('load', once);
  ui.sheet.addEventListener('error', once);
  setTimeout(once, 3000);
}

api.open = openDialog;
if (api.want) openDialog(api.want[0], api.want[1]);
api.want = null;
flush();
