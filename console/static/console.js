// Asks before forms marked data-confirm remove something. The console
// works without it; it only spares a misclick.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});
