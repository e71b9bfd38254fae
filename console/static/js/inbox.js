// The inbox's « Cocher les N retours de cette page »: ticks or unticks every row's checkbox,
// and follows them (indeterminate when some only are ticked). Without JavaScript the box stays
// hidden; rows are ticked one by one, or « Appliquer aux N retours de ce filtre » is used.
(function () {
  'use strict';
  var all = document.getElementById('lot-page');
  var group = document.getElementById('lot-page-groupe');
  var form = document.getElementById('lot');
  if (!all || !group || !form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=ids]'));
  if (!boxes.length) return;
  group.hidden = false;
  function follow() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.addEventListener('change', function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    follow();
  });
  boxes.forEach(function (box) { box.addEventListener('change', follow); });
  follow();
}());
