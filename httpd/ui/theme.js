// Applies the saved theme before the first paint. A classic (blocking)
// script on purpose, and a file rather than inline code: the page's
// Content-Security-Policy forbids inline script.
(function () {
  try {
    var t = window.localStorage.getItem('theme');
    if (t === 'dark' || t === 'light') {
      document.documentElement.setAttribute('data-theme', t);
    }
  } catch (e) {
    // Storage disabled: follow the system preference.
  }
})();
