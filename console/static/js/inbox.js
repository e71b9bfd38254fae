// The inbox's « Cocher les N retours de cette page »: ticks or unticks every row's checkbox,
// and follows them (indeterminate when some only are ticked), and the sentence of « Exporter
// la sélection » that says what it exports. Without JavaScript the box stays
// hidden; rows are ticked one by one, or « Appliquer aux N retours de ce filtre » is used.
(function () {
  'use strict';
  var all = document.getElementById('lot-page');
  var group = document.getElementById('lot-page-groupe');
  var form = document.getElementById('lot');
  if (!all || !group || !form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=ids]'));
  if (!boxes.length) return;
  var what = document.getElementById('export-quoi');
  group.hidden = false;
  function follow() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
    // « Exporter la sélection » says what it will export: the ticked rows, else the filter's.
    if (what) {
      var text = ticked === 0 ? what.dataset.none : ticked === 1 ? what.dataset.one : what.dataset.many;
      what.textContent = text.replace('{n}', String(ticked));
    }
  }
  all.addEventListener('change', function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    follow();
  });
  boxes.forEach(function (box) { box.addEventListener('change', follow); });
  follow();
}());
