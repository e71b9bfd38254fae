// Copy buttons: <button data-copy="element-id"> copies that element's text to the clipboard.
// Text is read with textContent and written to the clipboard: nothing is parsed as HTML.
(function () {
  'use strict';
  function announce(button, text) {
    var status = document.getElementById(button.getAttribute('data-copy') + '-statut');
    if (status) { status.textContent = text; }
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('button[data-copy]') : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) { return; }
    var text = source.textContent;
    var done = button.getAttribute('data-copied') || 'Copié';
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { announce(button, done); },
        function () { selectText(source); });
    } else {
      selectText(source);
    }
  });
  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
}());
