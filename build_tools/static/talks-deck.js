/* Decks: lay the slides out again once MathJax has set the equations. */
(function () {
  function relayout() {
    if (window.Reveal && window.Reveal.isReady && window.Reveal.isReady()) {
      window.Reveal.layout();
    }
  }
  window.addEventListener("load", function () {
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      window.MathJax.startup.promise.then(relayout);
    }
  });
})();
