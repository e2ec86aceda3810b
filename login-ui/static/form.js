// Tsubasa forms: the "show password" toggle, loaded by the pages with a
// password field (CSP script-src 'self', no inline script); the toggles are in the page,
// hidden, and appear only once this script wires them, so a browser
// without script shows plain password fields and nothing that does not
// work.
(function () {
  'use strict';

  // Pages with several toggles load this once per toggle; each is wired once.
  var buttons = document.querySelectorAll('button[data-reveal]:not([data-wired])');
  Array.prototype.forEach.call(buttons, function (b) {
    b.setAttribute('data-wired', '');
    var inputs = b.dataset.reveal.split(' ').map(function (id) {
      return document.getElementById(id);
    }).filter(function (el) {
      return el && el.type === 'password';
    });
    if (inputs.length === 0) {
      return;
    }
    var show = b.textContent;
    b.setAttribute('aria-controls', b.dataset.reveal);
    b.hidden = false;
    function set(visible) {
      inputs.forEach(function (el) {
        el.type = visible ? 'text' : 'password';
      });
      b.setAttribute('aria-pressed', visible ? 'true' : 'false');
      b.textContent = visible ? b.dataset.hide : show;
    }
    b.addEventListener('click', function () {
      set(b.getAttribute('aria-pressed') !== 'true');
    });
    // Sent as a password field again, so the browser's password manager
    // offers to save it as one.
    if (inputs[0].form) {
      inputs[0].form.addEventListener('submit', function () {
        set(false);
      });
    }
  });
})();
