/* The search page's one script (the archive's CSP allows only its own files):
   Pagefind's UI with its filters, the query from ?q= (the header's search box),
   and a note when the page is opened from disk, where the index cannot load.

   The filters are loaded before the UI exists.  Pagefind's UI keeps the filter
   list of whichever answer comes first: a search that finishes before the
   filter index has loaded carries only the filters loaded so far (e.g. month
   without topic) and that partial list is never replaced.  Loading them first,
   through the same module the UI imports (one module per URL), removes the race. */
window.addEventListener("DOMContentLoaded", function () {
  if (location.protocol === "file:") {
    document.getElementById("offline").hidden = false;
  }
  function start() {
    var ui = new PagefindUI({ element: "#search", showSubResults: false, showImages: false });
    var q = new URLSearchParams(location.search).get("q");
    if (q) {
      ui.triggerSearch(q);
    }
  }
  if (location.protocol === "file:") {
    start();
    return;
  }
  import(new URL("../pagefind/pagefind.js", location.href).href)
    .then(function (pagefind) { return pagefind.filters(); })
    .then(start, start);
});
