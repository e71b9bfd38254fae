/* Personal-data hints for the comment field: the browser's copy of the cheap, high-confidence
 * rules of retour/pii (e-mails, French phone numbers, NIR with its key, IBAN mod 97, payment
 * cards Luhn). The server is the authority and masks more (addresses, names, file numbers…);
 * this only lets the dialog warn the citizen while they type. It never blocks sending.
 *
 * Shape: a fragment that declares ONE variable, so it can be concatenated inside the
 * dialog's IIFE (widget/build.mjs does; it stays private there) or loaded alone (a global):
 *
 *   var retourPii = { detect(text) -> sorted category keys, e.g. ['email', 'phone'],
 *                     CATEGORIES: ['card', 'email', 'iban', 'nir', 'phone'] };
 *
 *   retourPii.detect('Rappelez-moi au 06 12 34 56 78')  // ['phone']
 *
 * Call it on `input` (debouncing is optional: 2,000 characters take well under a millisecond).
 * It mirrors retour/pii/numbers.py and contact.py (retour.redaction.browser_categories);
 * tests/browser/test_pii_agreement.py runs both on tests/fixtures/pii_cases.json.
 */
var retourPii = (function () {
  'use strict';
  var SP = '[ \\u00a0\\u2009\\u202f]';
  var SEP = '(?:' + SP + '{1,2}|' + SP + '?[.\\-\\u2010\\u2011\\u2013]' + SP + '?)?';
  var IS = '(?:[ \\u00a0\\u202f]{1,2}|-)?';
  var WS = '[ \\t\\u00a0]{0,3}';
  // Python's \w is Unicode (letters, numbers, underscore): so are these classes.
  var W = '\\p{L}\\p{N}_';
  var L = '[' + W + '-]+';
  var NOT_ALNUM = '(?<![\\p{L}\\p{N}])';
  var RUN = RegExp('\\d(?:' + SEP + '\\d|(?<=2)[AaBb])*', 'g');
  var RUN_AT = RegExp(RUN.source, 'y');
  var ZEROS = RegExp(NOT_ALNUM + '00', 'gu');
  var IBAN = RegExp(NOT_ALNUM + '[A-Za-z]{2}' + IS + '\\d' + IS + '\\d(?:' + IS + '[0-9A-Za-z]){11,30}', 'yu');
  var INTL = RegExp('(?:\\+|' + NOT_ALNUM + '00)' + SEP + '(33|262|269|59[046]|508|68[179])(?:' + SEP + '\\(0\\))?' + SEP, 'yu');
  var WORD = function (w) { return '(?<![' + W + '])' + w + '(?![' + W + '])'; };
  // The domain's first label is at most 63 characters, as in retour/pii/contact.py.
  var EMAIL = RegExp('(?<![' + W + '.+-])[' + W + '.+-]+' + WS + '(?:@|[([{<]' + WS + '(?:at|arobase|@|a)' + WS + '[)\\]}>]|' + WORD('arobase') + ')' + WS +
    '([' + W + '-]{1,63}(?:' + WS + '(?:\\.|[([{<]' + WS + '(?:dot|point|\\.)' + WS + '[)\\]}>]|' + WORD('(?:dot|point)') + ')' + WS + L + ')+)', 'giu');
  var TLDS = ' fr com net org eu info biz io me be ch lu mc ca de uk es it pt nl re gp mq gf yt pm nc pf wf bl mf ma dz tn sn ci cm edu gov co us ';
  var RANK = 'email iban nir reference card phone';
  // Calling code -> digits of the national number (retour/pii/numbers.py INTERNATIONAL).
  var NATIONAL = { 33: 9, 262: 9, 269: 9, 590: 9, 594: 9, 596: 9, 508: 6, 681: 6, 687: 6, 689: 8 };

  function parts(re, text, a, b) {
    var out = [], m;
    text = text.slice(a, b);
    while ((m = re.exec(text))) out.push([a + m.index, a + re.lastIndex, m[0]]);
    return out;
  }
  function luhn(d) {
    for (var sum = 0, i = d.length; i--;) {
      var v = d[i] * ((d.length - i) % 2 ? 1 : 2);
      sum += v > 9 ? v - 9 : v;
    }
    return sum % 10 === 0;
  }
  function mod97(s) {
    for (var r = 0, i = 0; i < s.length; i++) {
      var v = parseInt(s[i], 36);
      r = (r * (v > 9 ? 100 : 10) + v) % 97;
    }
    return r;
  }
  function classify(w) {
    var s = w.toUpperCase(), k = { '2A': '19', '2B': '18' }[s.slice(5, 7)];
    if (/^[1-478]\d\d(0[1-9]|1[0-2]|[2-9]\d)(\d\d|2[AB])\d{8}$/.test(s) &&
        97 - mod97(s.slice(0, 5) + (k || s.slice(5, 7)) + s.slice(7, 13)) === +s.slice(13)) return 'nir';
    if (/^0[1-79]\d{8}$/.test(w)) return 'phone';  // 08: the administration's service numbers
    // Lengths and first digits card issuers use (retour/pii/checksums.py card_valid).
    if (/^(4\d{12}|3[0689]\d{12}|3[47]\d{13}|[2-6]\d{15}|[4-6]\d{16,18})$/.test(w) && luhn(w)) return 'card';
  }
  function detect(text) {
    var found = [], m, run, i, b, g, c, z;
    function add(a, z, cat) { found.push([a, z, cat]); }
    function intl(at) {
      // The national number: the first whole groups of the run after the calling code.
      INTL.lastIndex = at;
      if (!(m = INTL.exec(text))) return;
      // 64 characters always hold what decides (retour/pii/numbers.py _NATIONAL_READ): a run
      // of "0033-0033-…" is not read to its end for each of its "00".
      RUN_AT.lastIndex = INTL.lastIndex;
      var r = RUN_AT.exec(text.slice(0, INTL.lastIndex + 64)), d = '', n, x;
      var gs = r ? parts(/[A-Za-z0-9]+/g, text, r.index, RUN_AT.lastIndex) : [];
      for (x = 0; x < gs.length; x++) {
        n = (d += gs[x][2]).replace(/^0/, '');
        if (n.length >= NATIONAL[m[1]]) {
          if (n.length === NATIONAL[m[1]] && /^\d+$/.test(d) && n[0] !== '0') add(at, gs[x][1], 'phone');
          return;
        }
      }
    }
    EMAIL.lastIndex = 0;
    while ((m = EMAIL.exec(text))) {
      var end = EMAIL.lastIndex, labels = parts(RegExp(L, 'gu'), text, end - m[1].length, end);
      if (RegExp('^[' + W + '.+-]+@' + L + '(\\.' + L + ')+$', 'u').test(m[0])) {
        if (/^\p{L}{2,}$/u.test(labels[labels.length - 1][2])) add(m.index, end, 'email');
      } else {
        for (i = labels.length; --i > 0;) if (TLDS.indexOf(' ' + labels[i][2].toLowerCase() + ' ') >= 0) { add(m.index, labels[i][1], 'email'); break; }
      }
    }
    RUN.lastIndex = 0;
    while ((run = RUN.exec(text))) {
      var s = run.index, ends = {}, starts = [], cmp = '';
      if (run[0].length >= 10) {
        g = parts(/[A-Za-z0-9]+/g, text, s, RUN.lastIndex);
        g.forEach(function (x, j) { starts.push(cmp.length); cmp += x[2]; ends[cmp.length] = j; });
        starts.forEach(function (a, first) {
          [10, 13, 14, 15, 16, 17, 18, 19].forEach(function (n) {
            var last = ends[a + n];
            if (last >= 0 && (c = classify(cmp.slice(a, a + n)))) {
              // How people group a phone's ten digits (retour/pii/numbers.py PHONE_GROUPINGS).
              var grouping = g.slice(first, last + 1).map(function (x) { return x[2].length; }).join('-');
              if (c !== 'phone' || ' 10 2-2-2-2-2 4-2-2-2 2-4-4 4-3-3 4-6 2-8 '.indexOf(' ' + grouping + ' ') >= 0) add(g[first][0], g[last][1], c);
            }
          });
        });
      }
      // An IBAN starts two letters (and maybe a separator) before its first digit.
      for (b = 2; b < 6; b++) {
        if (!/[A-Za-z]/.test(text[s - b] || '')) continue;
        IBAN.lastIndex = s - b;
        if (!(m = IBAN.exec(text))) continue;
        var z = IBAN.lastIndex, open = /[\p{L}\p{N}]/u.test(text[z] || '');
        g = parts(/[A-Za-z0-9]+/g, text, s - b, z);
        for (i = 0, cmp = ''; i < g.length - (open ? 1 : 0); i++) {
          cmp += g[i][2];
          if (cmp.length > 14 && cmp.replace(/\D/g, '').length > 11 && mod97(cmp.slice(4) + cmp.slice(0, 4)) === 1) add(s - b, g[i][1], 'iban');
        }
        break;
      }
      for (b = 0; b < 4; b++) if (text[s - b] === '+') { intl(s - b); break; }
      // "0033" may start any group of a run (searched in the run only, not to the next "00").
      var inRun = text.slice(0, RUN.lastIndex);
      for (ZEROS.lastIndex = s; (z = ZEROS.exec(inRun));) intl(z.index);
    }
    // Overlapping findings merge into one, named after the strongest (retour/pii/spans.py).
    var keys = {}, last;
    found.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1] || RANK.indexOf(x[2]) - RANK.indexOf(y[2]); });
    found.forEach(function (f) {
      if (last && f[0] < last[1]) {
        last[1] = Math.max(last[1], f[1]);
        if (RANK.indexOf(f[2]) < RANK.indexOf(last[2])) last[2] = f[2];
      } else {
        if (last) keys[last[2]] = 1;
        last = f;
      }
    });
    if (last) keys[last[2]] = 1;
    return Object.keys(keys).sort();
  }
  return { detect: detect, CATEGORIES: ['card', 'email', 'iban', 'nir', 'phone'] };
})();
