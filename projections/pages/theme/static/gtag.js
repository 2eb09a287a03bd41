// Starts Google Analytics with the measurement id in this script tag's
// data-id: the pages' Content-Security-Policy allows no inline script.
(function () {
  var me = document.currentScript;
  var id = me && me.getAttribute("data-id");
  if (!id) {
    return;
  }
  window.dataLayer = window.dataLayer || [];
  function gtag() {
    window.dataLayer.push(arguments);
  }
  gtag("js", new Date());
  gtag("config", id);
})();
